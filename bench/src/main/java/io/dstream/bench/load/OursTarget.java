package io.dstream.bench.load;

import io.vertx.core.AbstractVerticle;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import org.HdrHistogram.Histogram;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Our broker over WebSocket protocol v1, with a lean Vert.x client (one frame per message, no
 * client library in between) so the numbers are the broker's. Each socket lives on one event-loop
 * context and is only touched there.
 */
final class OursTarget implements Target, HttpTarget {

  private final String name;
  private final String host;
  private final int port;
  private final String apiKey;
  private final long timeoutMs;
  private final Vertx vertx;
  private final WebSocketClient client;
  private final List<Context> contexts = new ArrayList<>();
  private int nextContext;
  private HttpLoad http;

  OursTarget(String name, String hostPort, String apiKey, long timeoutMs) throws Exception {
    this.name = name;
    this.host = hostPort.substring(0, hostPort.lastIndexOf(':'));
    this.port = Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    this.apiKey = apiKey;
    this.timeoutMs = timeoutMs;
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(2_000_000)
        .setTcpNoDelay(true).setConnectTimeout(10_000));
    for (int i = 0; i < 16; i++) {
      Promise<Context> created = Promise.promise();
      vertx.deployVerticle(new AbstractVerticle() {
        @Override
        public void start() {
          created.complete(context);
        }
      });
      contexts.add(await(created.future(), new Deadline(10_000), "event loop context"));
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean supports(Scenario scenario) {
    return scenario != Scenario.REQUEST && scenario != Scenario.WORK_QUEUE;
  }

  @Override
  public synchronized HttpLoad http() {
    if (http == null) {
      http = new HttpLoad(vertx, name, host + ":" + port, apiKey, 64);
    }
    return http;
  }

  @Override
  public boolean hasRecordsApi() {
    return true;
  }

  /** Contexts round-robin over the event loops; one per publisher or subscriber. */
  Context nextContext() {
    return contexts.get(nextContext++ % contexts.size());
  }

  Future<WebSocket> connect(Context context, String subject) {
    Promise<WebSocket> connected = Promise.promise();
    context.runOnContext(v -> client.connect(new WebSocketConnectOptions().setHost(host).setPort(port)
        .setURI("/stream/" + subject + "?apiKey=" + URLEncoder.encode(apiKey, StandardCharsets.UTF_8)))
        .onComplete(connected));
    return connected.future();
  }

  static <T> T await(Future<T> future, Deadline deadline, String what) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(deadline.remainingMs(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new TimeoutException(what + " did not finish in time");
    }
  }

  @Override
  public double publish(String subject, int count, int window) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    Context context = nextContext();
    WebSocket socket = await(connect(context, subject), deadline, "connect");
    V1Publisher publisher = new V1Publisher(socket, count, window, null);
    context.runOnContext(v -> publisher.start());
    await(publisher.done(), deadline, name + " publish");
    socket.close();
    return Rates.perSecond(count, publisher.endNanos - publisher.startNanos);
  }

  @Override
  public Histogram syncPublish(String subject, int count) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    Context context = nextContext();
    WebSocket socket = await(connect(context, subject), deadline, "connect");
    Histogram roundTrips = Rates.histogram();
    V1Publisher publisher = new V1Publisher(socket, count, 1, roundTrips);
    context.runOnContext(v -> publisher.start());
    await(publisher.done(), deadline, name + " sync publish");
    socket.close();
    return roundTrips;
  }

  @Override
  public double replay(String subject, int count) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    Context context = nextContext();
    WebSocket socket = await(connect(context, subject), deadline, "connect");
    V1Subscriber subscriber = new V1Subscriber(socket, count, null);
    long start = System.nanoTime();
    context.runOnContext(v -> subscriber.subscribe(1));
    await(subscriber.done(), deadline, name + " replay");
    socket.close();
    return Rates.perSecond(count, subscriber.endNanos - start);
  }

  @Override
  public FanOutResult fanOut(String subject, int count, int subscribers, int window) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    List<WebSocket> sockets = new ArrayList<>();
    List<V1Subscriber> subs = new ArrayList<>();
    List<Histogram> latencies = new ArrayList<>();
    for (int i = 0; i < subscribers; i++) {
      Context context = nextContext();
      WebSocket socket = await(connect(context, subject), deadline, "connect");
      Histogram latency = Rates.histogram();
      V1Subscriber subscriber = new V1Subscriber(socket, count, latency);
      Promise<Void> subscribed = Promise.promise();
      context.runOnContext(v -> subscriber.subscribe(1).onComplete(subscribed));
      await(subscribed.future(), deadline, "subscribe");
      sockets.add(socket);
      subs.add(subscriber);
      latencies.add(latency);
    }
    Context publisherContext = nextContext();
    WebSocket publisherSocket = await(connect(publisherContext, subject), deadline, "connect");
    V1Publisher publisher = new V1Publisher(publisherSocket, count, window, null);
    publisherContext.runOnContext(v -> publisher.start());
    long delivered = 0;
    long end = 0;
    try {
      await(publisher.done(), deadline, name + " fan-out publish");
      for (V1Subscriber subscriber : subs) {
        await(subscriber.done(), deadline, name + " fan-out delivery");
        end = Math.max(end, subscriber.endNanos);
      }
    } finally {
      for (V1Subscriber subscriber : subs) {
        delivered += subscriber.received();
      }
      publisherSocket.close();
      sockets.forEach(WebSocket::close);
    }
    return new FanOutResult(Rates.perSecond(delivered, end - publisher.startNanos), Rates.p99Micros(latencies),
        delivered, (long) count * subscribers);
  }

  @Override
  public double manySubjects(String prefix, int subjects, int publishers, int count, int window) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    int perSubject = count / subjects;
    int perSocketWindow = Math.max(1, window * publishers / subjects);
    List<Context> publisherContexts = new ArrayList<>();
    for (int p = 0; p < publishers; p++) {
      publisherContexts.add(nextContext());
    }
    List<WebSocket> sockets = new ArrayList<>();
    List<V1Publisher> all = new ArrayList<>();
    List<Context> owners = new ArrayList<>();
    for (int s = 0; s < subjects; s++) {
      Context context = publisherContexts.get(s % publishers);
      WebSocket socket = await(connect(context, prefix + "." + s), deadline, "connect");
      sockets.add(socket);
      all.add(new V1Publisher(socket, perSubject, perSocketWindow, null));
      owners.add(context);
    }
    for (int i = 0; i < all.size(); i++) {
      V1Publisher publisher = all.get(i);
      owners.get(i).runOnContext(v -> publisher.start());
    }
    try {
      for (V1Publisher publisher : all) {
        await(publisher.done(), deadline, name + " many-subjects publish");
      }
    } finally {
      sockets.forEach(WebSocket::close);
    }
    long start = all.stream().mapToLong(p -> p.startNanos).min().orElse(0);
    long end = all.stream().mapToLong(p -> p.endNanos).max().orElse(0);
    return Rates.perSecond((long) perSubject * subjects, end - start);
  }

  @Override
  public void close() {
    close(vertx);
  }

  /** Closes a load generator's Vert.x within 10 s; an interrupt is kept on the thread. */
  static void close(Vertx vertx) {
    try {
      await(vertx.close(), new Deadline(10_000), "close");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      throw new IllegalStateException("closing the Vert.x clients failed", e);
    }
  }
}
