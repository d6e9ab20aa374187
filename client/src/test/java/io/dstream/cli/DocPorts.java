package io.dstream.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The docs' ports (8787 for HTTP, 4222 for NATS) and a test broker's, swapped in one pass each way:
 * two passes in a row would rewrite the first one's result when a free port contains the other
 * docs port (HTTP port 42225 became a six-digit port once 4222 was replaced after it).
 */
record DocPorts(int http, int nats) {

  private static final String DOCS_HTTP = "8787";
  private static final String DOCS_NATS = "4222";
  private static final Pattern IN_DOCS = Pattern.compile(DOCS_HTTP + "|" + DOCS_NATS);

  /** @return {@code text} of the docs with the test broker's ports */
  String toTest(String text) {
    return IN_DOCS.matcher(text).replaceAll(found -> Integer.toString(found.group().equals(DOCS_HTTP) ? http : nats));
  }

  /** @return {@code text} the test broker's clients printed, with the docs' ports */
  String toDocs(String text) {
    String httpPort = Integer.toString(http);
    Pattern inTest = Pattern.compile(Pattern.quote(httpPort) + "|" + Pattern.quote(Integer.toString(nats)));
    return inTest.matcher(text)
        .replaceAll(found -> Matcher.quoteReplacement(found.group().equals(httpPort) ? DOCS_HTTP : DOCS_NATS));
  }
}
