package io.dstream.bench.load;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Which node of our cluster leads a subject's partition, and how far each node has applied it, from
 * the nodes' admin API ({@code GET /admin/cluster/subject/{subject}} on the first node, then
 * {@code GET /admin/cluster} on each, docs/admin.md). A cluster run's rate depends on its leader, and
 * a replica that stopped following makes a run cheaper than a replicated one, so the harness prints
 * both beside each run.
 */
final class ClusterLeaders {

  /**
   * How many entries behind the newest a node may be read right after a run and still count as
   * following: a follower learns the last commit with the next append, and the nodes are asked one
   * after the other.
   */
  private static final long FOLLOWING_WITHIN = 10;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<URI> nodes;
  private final String apiKey;

  /** {@code nodes}: {@code http://host:port} of each node's HTTP listener, the one the client uses first. */
  ClusterLeaders(List<URI> nodes, String apiKey) {
    if (nodes.isEmpty()) {
      throw new IllegalArgumentException("no node to ask");
    }
    this.nodes = List.copyOf(nodes);
    this.apiKey = apiKey;
  }

  /**
   * "n1 (applied n1 1200, n2 1200, n3 1198)": the leader the first node reports and how far each node
   * applied the subject's partition, naming the nodes that do not follow; null if no leader is named.
   */
  String leaderOf(String subject) throws Exception {
    JsonObject placement = get(nodes.get(0), "/admin/cluster/subject/" + URLEncoder.encode(subject, StandardCharsets.UTF_8));
    String leader = placement.getString("leader");
    if (leader == null) {
      return null;
    }
    int partition = placement.getInteger("partition");
    Map<String, Long> applied = new LinkedHashMap<>();
    List<String> silent = new ArrayList<>();
    for (URI node : nodes) {
      try {
        JsonObject cluster = get(node, "/admin/cluster");
        for (Object view : cluster.getJsonArray("partition_list")) {
          if (((JsonObject) view).getInteger("partition") == partition) {
            applied.put(cluster.getString("node"), ((JsonObject) view).getLong("applied"));
          }
        }
      } catch (Exception e) {
        silent.add(node.getAuthority());
      }
    }
    StringJoiner described = new StringJoiner(", ", leader + " (applied ", ")");
    applied.forEach((node, index) -> described.add(node + " " + index));
    silent.forEach(node -> described.add(node + " did not answer"));
    long newest = applied.values().stream().mapToLong(Long::longValue).max().orElse(0);
    StringJoiner behind = new StringJoiner(", ", "; NOT FOLLOWING, so not a run of every replica: ", "");
    behind.setEmptyValue("");
    applied.forEach((node, index) -> {
      if (newest - index > FOLLOWING_WITHIN) {
        behind.add(node + " " + (newest - index) + " entries behind");
      }
    });
    silent.forEach(behind::add);
    return described + behind.toString();
  }

  private JsonObject get(URI node, String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(node.resolve(path)).timeout(Duration.ofSeconds(5))
        .header("Authorization", "Bearer " + apiKey).GET().build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("GET " + request.uri() + " answered " + response.statusCode() + ": "
          + response.body());
    }
    return new JsonObject(response.body());
  }
}
