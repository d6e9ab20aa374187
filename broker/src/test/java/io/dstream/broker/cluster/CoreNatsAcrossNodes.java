package io.dstream.broker.cluster;

import io.dstream.broker.ClusterProcesses;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamStatusException;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dstream.broker.cluster.ClusterClients.await;
import static io.dstream.broker.cluster.ClusterClients.jetStream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ClusterIT's core NATS case: request/reply, no responders and queue groups across the nodes. */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it
final class CoreNatsAcrossNodes {

  private static final Duration WAIT = Duration.ofSeconds(30);

  private final ClusterProcesses cluster;

  CoreNatsAcrossNodes(ClusterProcesses cluster) {
    this.cluster = cluster;
  }

  void check() throws Exception {
    String durable = "c8.jobs";
    // A leads the durable subject and has no group member: the group's messages must be spread over B and C.
    String a = cluster.leaderOf(durable);
    String b = cluster.otherThan(a).get(0);
    String c = cluster.otherThan(a).get(1);
    try (Connection requester = connectCore(a); Connection service = connectCore(b);
         Connection workerB = connectCore(b); Connection workerC = connectCore(c)) {
      service.createDispatcher(request -> service.publish(request.getReplyTo(), request.getHeaders(), request.getData()))
          .subscribe("svc.echo");
      service.flush(WAIT);
      Message answer = requestUntilAnswered(requester, "svc.echo", WAIT);
      assertEquals("trace-1", answer.getHeaders().getFirst("X-Trace"), "the request's header, echoed");
      try (Connection fresh = connectCore(c)) {
        // Its reply inbox is announced a tick after this request: the reply must find it all the same.
        Message first = fresh.request(NatsMessage.builder().subject("svc.echo").data("first").build(), WAIT);
        assertNotNull(first, "the first request of a new connection on " + c + " got no answer from " + b);
        assertEquals("first", new String(first.getData(), StandardCharsets.UTF_8));
      }

      ExecutionException nobody = assertThrows(ExecutionException.class,
          () -> requester.request("svc.nobody", new byte[0]).get(WAIT.toSeconds(), TimeUnit.SECONDS),
          "a request that no node serves");
      JetStreamStatusException status = assertInstanceOf(JetStreamStatusException.class, nobody.getCause());
      assertEquals(503, status.getStatus().getCode(), status.toString());

      Map<String, List<String>> received = new ConcurrentHashMap<>();
      for (Connection worker : List.of(workerB, workerC)) {
        String node = worker == workerB ? b : c;
        worker.createDispatcher(message -> received.computeIfAbsent(node, n -> new CopyOnWriteArrayList<>())
            .add(message.getSubject() + ":" + new String(message.getData(), StandardCharsets.UTF_8)))
            .subscribe("svc.work", "workers").subscribe(durable, "workers");
        worker.flush(WAIT);
      }
      List<String> plainOnC = new CopyOnWriteArrayList<>();
      workerC.createDispatcher(message -> plainOnC.add(new String(message.getData(), StandardCharsets.UTF_8)))
          .subscribe("svc.work");
      workerC.flush(WAIT);
      JetStream js = jetStream(requester, WAIT);
      int count = 100;
      // Warm until both members got one of each kind: each node's interest has then reached A.
      long deadline = System.nanoTime() + WAIT.toNanos();
      for (int i = 0; !bothGotOneOfEach(received, b, c, durable); i++) {
        assertTrue(System.nanoTime() < deadline, "the group's members on " + b + " and " + c + " did not both get"
            + " messages published on " + a + ": " + received);
        requester.publish("svc.work", ("warm-" + i).getBytes(StandardCharsets.UTF_8));
        js.publish(durable, ("warm-" + i).getBytes(StandardCharsets.UTF_8));
        Thread.sleep(20);
      }
      for (int i = 0; i < count; i++) {
        requester.publish("svc.work", ("job-" + i).getBytes(StandardCharsets.UTF_8));
        js.publishAsync(durable, ("job-" + i).getBytes(StandardCharsets.UTF_8));
      }
      requester.flush(WAIT);
      await(() -> jobs(received, null).size() >= 2 * count && plainOnC.stream().filter(m -> m.startsWith("job-")).count() >= count,
          WAIT, 2 * count + " group deliveries and " + count + " plain ones on " + c);
      Thread.sleep(1_000);
      List<String> all = jobs(received, null);
      assertEquals(2 * count, all.size(), "group deliveries (each message once in the cluster): " + all);
      for (int i = 0; i < count; i++) {
        assertTrue(all.contains("svc.work:job-" + i), "svc.work job-" + i + " never reached the group");
        assertTrue(all.contains(durable + ":job-" + i), durable + " job-" + i + " never reached the group");
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        expected.add("job-" + i);
      }
      assertEquals(expected, plainOnC.stream().filter(m -> m.startsWith("job-")).toList(),
          "the plain subscription beside the member on " + c + ": each once, in the publisher's order");
      System.out.printf("core NATS: a request from %s answered by %s; the group's %d ephemeral and %d durable messages "
          + "(leader %s) split %s:%d, %s:%d%n", a, b, count, count, a, b, jobs(received, b).size(), c,
          jobs(received, c).size());
    }
  }

  /** A core NATS client: a request nobody serves fails with its 503 status instead of being cancelled. */
  private Connection connectCore(String node) throws Exception {
    return Nats.connect(new Options.Builder().server(cluster.natsUrl(node)).token(ClusterProcesses.API_KEY.toCharArray())
        .noReconnect().connectionTimeout(Duration.ofSeconds(10)).reportNoResponders().build());
  }

  /** Requests {@code subject} with a header until answered: a new subscription on another node is announced within a tick. */
  private Message requestUntilAnswered(Connection requester, String subject, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        Message answer = requester.request(NatsMessage.builder().subject(subject).headers(new Headers().put("X-Trace",
            "trace-1")).data("ping").build()).get(5, TimeUnit.SECONDS);
        assertEquals("ping", new String(answer.getData(), StandardCharsets.UTF_8));
        return answer;
      } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
        last = e;
        Thread.sleep(100);
      }
    }
    throw new AssertionError("no answer to " + subject + " within " + timeout, last);
  }

  private static boolean bothGotOneOfEach(Map<String, List<String>> received, String b, String c, String durable) {
    for (String node : List.of(b, c)) {
      List<String> got = received.getOrDefault(node, List.of());
      if (got.stream().noneMatch(m -> m.startsWith("svc.work:")) || got.stream().noneMatch(m -> m.startsWith(durable + ":"))) {
        return false;
      }
    }
    return true;
  }

  /** The {@code job-} deliveries (not the warm ones) of {@code node}, or of all nodes for null. */
  private static List<String> jobs(Map<String, List<String>> received, String node) {
    return received.entrySet().stream().filter(e -> node == null || e.getKey().equals(node))
        .flatMap(e -> e.getValue().stream()).filter(m -> m.contains(":job-")).toList();
  }
}
