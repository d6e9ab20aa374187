package io.dstream.bench.load;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads one unlabelled gauge from our broker's {@code /metrics}. */
final class MetricsScrape {

  private final HttpClient http = HttpClient.newHttpClient();
  private final HttpRequest request;

  MetricsScrape(String hostPort, String apiKey) {
    this.request = HttpRequest.newBuilder(URI.create("http://" + hostPort + "/metrics"))
        .header("Authorization", "Bearer " + apiKey).build();
  }

  /** The gauge's value, or NaN if the broker does not show it. */
  double gauge(String name) throws IOException, InterruptedException {
    Matcher matcher = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)")
        .matcher(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
    return matcher.find() ? Double.parseDouble(matcher.group(1)) : Double.NaN;
  }
}
