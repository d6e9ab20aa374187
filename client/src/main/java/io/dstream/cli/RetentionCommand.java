package io.dstream.cli;

import io.dstream.client.AdminClient;
import io.dstream.client.DurableStream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "retention", mixinStandardHelpOptions = true,
    description = "Retention limits by subject pattern through the admin API (the API key or an admin token).",
    subcommands = {RetentionCommand.Set.class, RetentionCommand.Ls.class, RetentionCommand.Rm.class},
    footer = {"", "Examples:", "  dstream retention set 'orders.>' --max-age 24h --max-bytes 1GiB",
        "  dstream retention set orders.eu --max-msgs 1000 --discard new", "  dstream retention ls",
        "  dstream retention rm 'orders.>'"})
final class RetentionCommand {

  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?");

  /** A size: plain bytes, or with a unit, decimal (KB = 1000) or binary (KiB = 1024). */
  static long bytes(String text, String option) {
    Matcher matcher = SIZE.matcher(text.strip());
    if (!matcher.matches()) {
      throw new IllegalArgumentException(option + " expects a size like 1048576, 512KiB, 1MiB or 1GB, got '" + text + "'");
    }
    long amount = Long.parseLong(matcher.group(1));
    String unit = matcher.group(2) == null ? "B" : matcher.group(2);
    long scale = switch (unit) {
      case "KB" -> 1000L;
      case "MB" -> 1000L * 1000;
      case "GB" -> 1000L * 1000 * 1000;
      case "TB" -> 1000L * 1000 * 1000 * 1000;
      case "KiB" -> 1L << 10;
      case "MiB" -> 1L << 20;
      case "GiB" -> 1L << 30;
      case "TiB" -> 1L << 40;
      default -> 1L;
    };
    return Math.multiplyExact(amount, scale);
  }

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = {"Sets the limits of subjects matching PATTERN (* one token, a final > the rest), replacing the",
          "pattern's previous rule. Limits not given are unlimited. Existing subjects follow from their next",
          "write and the next sweep."},
      footer = {"", "Examples:", "  dstream retention set 'orders.>' --max-age 24h --max-bytes 1GiB",
          "  dstream retention set orders.eu --max-msgs 1000 --discard new"})
  static final class Set implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Subject pattern")
    String pattern;

    @Option(names = "--max-age", description = "Delete messages older than this: 90s, 15m, 24h, 7d.")
    String maxAge;

    @Option(names = "--max-msgs", description = "Messages a subject keeps.")
    Long maxMessages;

    @Option(names = "--max-bytes", description = "Payload bytes a subject keeps: 1048576, 512MiB, 1GiB.")
    String maxBytes;

    @Option(names = "--max-msg-size", description = "Largest message a subject takes: 1MiB.")
    String maxMessageSize;

    @Option(names = "--discard", defaultValue = "old",
        description = "At the message or byte limit: old deletes the oldest, new refuses the publish (default ${DEFAULT-VALUE}).")
    String discard;

    @Override
    public Integer call() {
      String policy = discard.toLowerCase(Locale.ROOT);
      if (!policy.equals("old") && !policy.equals("new")) {
        throw new IllegalArgumentException("--discard is old or new, got '" + discard + "'");
      }
      if (maxMessages != null && maxMessages < 0) {
        throw new IllegalArgumentException("--max-msgs must be >= 0 (0 = unlimited), got " + maxMessages);
      }
      JsonObject limits = new JsonObject().put("discard", policy);
      if (maxAge != null) {
        limits.put("maxAgeMs", SubCommand.age(maxAge).toMillis());
      }
      if (maxMessages != null) {
        limits.put("maxMessages", maxMessages);
      }
      if (maxBytes != null) {
        limits.put("maxBytes", bytes(maxBytes, "--max-bytes"));
      }
      if (maxMessageSize != null) {
        limits.put("maxMessageSize", bytes(maxMessageSize, "--max-msg-size"));
      }
      try (AdminClient admin = DurableStream.admin(common.clientOptions())) {
        JsonObject rule = admin.putRetention(pattern, limits).await();
        common.print(System.out, rule, "retention of " + pattern + ": " + describe(rule));
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "ls", mixinStandardHelpOptions = true,
      description = "Lists the broker-wide default and the rules, most specific (the one that wins) first.",
      footer = {"", "Example:", "  dstream retention ls --json"})
  static final class Ls implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
      try (AdminClient admin = DurableStream.admin(common.clientOptions())) {
        JsonObject listing = admin.retention().await();
        if (common.json) {
          System.out.println(listing.encode());
          return ExitCode.OK;
        }
        System.out.printf("%-40s %s%n", "PATTERN", "LIMITS");
        System.out.printf("%-40s %s%n", "(default)", describe(listing.getJsonObject("default")));
        JsonArray rules = listing.getJsonArray("rules");
        for (int i = 0; i < rules.size(); i++) {
          JsonObject rule = rules.getJsonObject(i);
          System.out.printf("%-40s %s%n", rule.getString("pattern"), describe(rule));
        }
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true,
      description = "Removes the rule of PATTERN: its subjects fall back to the next matching rule or the default.",
      footer = {"", "Example:", "  dstream retention rm 'orders.>'"})
  static final class Rm implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Subject pattern of the rule")
    String pattern;

    @Override
    public Integer call() {
      try (AdminClient admin = DurableStream.admin(common.clientOptions())) {
        admin.deleteRetention(pattern).await();
        common.print(System.out, new JsonObject().put("pattern", pattern).put("deleted", true),
            "retention rule of " + pattern + " removed");
      }
      return ExitCode.OK;
    }
  }

  /** {@code max-age=86400000ms max-msgs=1000 discard=new}, or {@code unlimited}. */
  static String describe(JsonObject limits) {
    StringBuilder text = new StringBuilder();
    append(text, "max-age", limits.getLong("maxAgeMs", 0L), "ms");
    append(text, "max-msgs", limits.getLong("maxMessages", 0L), "");
    append(text, "max-bytes", limits.getLong("maxBytes", 0L), "");
    append(text, "max-msg-size", limits.getLong("maxMessageSize", 0L), "");
    if (text.length() == 0) {
      return "unlimited";
    }
    return text.append(" discard=").append(limits.getString("discard", "old")).toString();
  }

  private static void append(StringBuilder text, String name, long value, String unit) {
    if (value > 0) {
      text.append(text.length() == 0 ? "" : " ").append(name).append('=').append(value).append(unit);
    }
  }
}
