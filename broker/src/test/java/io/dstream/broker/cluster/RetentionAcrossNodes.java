package io.dstream.broker.cluster;

import io.dstream.broker.ClusterProcesses;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.LongStream;

import static io.dstream.broker.cluster.ClusterClients.await;
import static io.dstream.broker.cluster.ClusterClients.connect;
import static io.dstream.broker.cluster.ClusterClients.jetStream;
import static io.dstream.broker.cluster.ClusterClients.publishUntilAcked;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** ClusterIT's retention case. */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it
final class RetentionAcrossNodes {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Duration CATCH_UP = Duration.ofSeconds(60);

  private final ClusterProcesses cluster;

  RetentionAcrossNodes(ClusterProcesses cluster) {
    this.cluster = cluster;
  }

  /**
   * Retention rules in cluster mode (docs/cluster.md): a rule set through a node that does not lead
   * the rules' subject is listed by every node and trims a subject led by a third node (its leader's
   * sweeper, the deletion replicated), also publishes after it (the leader's actor); a removal
   * through another node reaches every node and the subject grows again.
   */
  void check() throws Exception {
    String rulesLeader = cluster.leaderOf("$DS.RETENTION");
    String setter = cluster.otherThan(rulesLeader).get(0);
    String third = cluster.otherThan(rulesLeader, setter).get(0);
    String subject = null;
    for (int i = 0; i < 200 && subject == null; i++) {
      if (cluster.leaderOf("cr.orders-" + i).equals(third)) {
        subject = "cr.orders-" + i;
      }
    }
    if (subject == null) {
      // The third node leads no partition now: a subject led by any node but the setter still crosses nodes.
      for (int i = 0; subject == null; i++) {
        subject = cluster.leaderOf("cr.orders-" + i).equals(setter) ? null : "cr.orders-" + i;
      }
    }
    String subjectLeader = cluster.leaderOf(subject);
    System.out.printf("retention: rules led by %s, set through %s, %s led by %s%n", rulesLeader, setter, subject,
        subjectLeader);
    AckLedger ledger = new AckLedger(subject);
    try (Connection nc = connect(cluster.natsUrl(setter), Duration.ofSeconds(2))) {
      JetStream js = jetStream(nc, Duration.ofSeconds(5));
      for (int i = 0; i < 12; i++) {
        publishUntilAcked(js, ledger, "cr-" + i, WAIT);
      }
      String rulePath = "/admin/retention/" + ClusterProcesses.segment("cr.>");
      HttpResponse<String> put = cluster.put(setter, rulePath, "{\"maxMessages\":5}");
      assertEquals(200, put.statusCode(), put.body());
      assertEquals(5, new JsonObject(put.body()).getLong("maxMessages"), put.body());
      for (String node : cluster.nodeIds()) {
        awaitRules(node, rules -> rules.size() == 1 && "cr.>".equals(rules.getJsonObject(0).getString("pattern"))
            && rules.getJsonObject(0).getLong("maxMessages") == 5, "the rule cr.> with maxMessages 5");
      }
      awaitRetained(subject, 8, 12);
      for (int i = 12; i < 15; i++) {
        publishUntilAcked(js, ledger, "cr-" + i, WAIT);
      }
      awaitRetained(subject, 11, 15);

      String remover = cluster.otherThan(setter).get(0);
      HttpResponse<String> delete = cluster.delete(remover, rulePath);
      assertEquals(200, delete.statusCode(), delete.body());
      for (String node : cluster.nodeIds()) {
        awaitRules(node, JsonArray::isEmpty, "no rule after its removal through " + remover);
      }
      HttpResponse<String> again = cluster.delete(setter, rulePath);
      assertEquals(404, again.statusCode(), "a second removal, through " + setter + ": " + again.body());
      for (int i = 15; i < 18; i++) {
        publishUntilAcked(js, ledger, "cr-" + i, WAIT);
      }
      awaitRetained(subject, 11, 18);
    }
  }

  /** Polls {@code GET /admin/retention} on {@code node} until its rules pass {@code check}. */
  private void awaitRules(String node, Predicate<JsonArray> check, String what) throws Exception {
    JsonArray[] rules = {null};
    await(() -> {
      try {
        rules[0] = cluster.adminGet(node, "/admin/retention").getJsonArray("rules");
        return check.test(rules[0]);
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }, WAIT, what + " on " + node + " (last listing: " + rules[0] + ")");
  }

  /** Polls every node's replica of {@code subject} until it holds exactly the sequences {@code first..last}. */
  private void awaitRetained(String subject, long first, long last) throws Exception {
    for (String node : cluster.nodeIds()) {
      List<Long> seen = new ArrayList<>();
      await(() -> {
        try {
          seen.clear();
          Replica.read(cluster, node, subject).messages().forEach(message -> seen.add(message.sequence()));
          return seen.equals(LongStream.rangeClosed(first, last).boxed().toList());
        } catch (IOException e) {
          return false;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }, CATCH_UP, subject + " on " + node + " holds sequences " + first + ".." + last + " (holds " + seen + ")");
    }
  }
}
