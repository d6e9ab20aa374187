package io.dstream.bench.load;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Which node of our cluster leads a subject's partition, from one node's admin API
 * ({@code GET /admin/cluster/subject/{subject}}, docs/admin.md): a cluster run's rate depends on it,
 * so the harness prints it beside each run.
 */
final class ClusterLeaders {

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI node;
  private final String apiKey;

  /** {@code node}: {@code http://host:port} of a node's HTTP listener. */
  ClusterLeaders(URI node, String apiKey) {
    this.node = node;
    this.apiKey = apiKey;
  }

  /** The leader the node reports, or null if it names none. */
  String leaderOf(String subject) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(node.resolve("/admin/cluster/subject/"
            + URLEncoder.encode(subject, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(5))
        .header("Authorization", "Bearer " + apiKey).GET().build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET " + request.uri() + " answered " + response.statusCode() + ": "
          + response.body());
    }
    return new JsonObject(response.body()).getString("leader");
  }
}
