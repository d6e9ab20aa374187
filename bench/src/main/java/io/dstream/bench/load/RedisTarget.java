package io.dstream.bench.load;

import org.HdrHistogram.Histogram;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamEntry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Redis Streams through Jedis: XADD pipelined in rounds of {@code window} (Redis answers in order,
 * so a round is the window), XREADGROUP + XACK of each batch for consumers, one consumer group per
 * subscriber for fan-out, one stream key per subject.
 */
final class RedisTarget implements Target {

  private static final String FIELD = "d";
  private static final int READ_BATCH = 1000;
  private static final int BLOCK_MS = 100;

  private final String host;
  private final int port;
  private final long timeoutMs;

  RedisTarget(String hostPort, long timeoutMs) {
    this.host = hostPort.substring(0, hostPort.lastIndexOf(':'));
    this.port = Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    this.timeoutMs = timeoutMs;
  }

  @Override
  public String name() {
    return "redis";
  }

  @Override
  public boolean supports(Scenario scenario) {
    return scenario != Scenario.REQUEST && scenario != Scenario.WORK_QUEUE;
  }

  private Jedis jedis() {
    return new Jedis(host, port, (int) Math.min(Integer.MAX_VALUE, timeoutMs));
  }

  @Override
  public double publish(String subject, int count, int window) throws Exception {
    try (Jedis jedis = jedis()) {
      long start = System.nanoTime();
      publishPipelined(jedis, List.of(subject), count, window, new Deadline(timeoutMs));
      return Rates.perSecond(count, System.nanoTime() - start);
    }
  }

  private static void publishPipelined(Jedis jedis, List<String> keys, int count, int window, Deadline deadline)
      throws Exception {
    int sent = 0;
    while (sent < count) {
      Pipeline pipeline = jedis.pipelined();
      int round = Math.min(window, count - sent);
      for (int i = 0; i < round; i++) {
        pipeline.xadd(keys.get(sent % keys.size()), XAddParams.xAddParams(), Map.of(FIELD, Payload.text(System.nanoTime())));
        sent++;
      }
      pipeline.sync();
      deadline.check("redis publish");
    }
  }

  @Override
  public Histogram syncPublish(String subject, int count) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    Histogram roundTrips = Rates.histogram();
    try (Jedis jedis = jedis()) {
      for (int i = 0; i < count; i++) {
        long start = System.nanoTime();
        jedis.xadd(subject, XAddParams.xAddParams(), Map.of(FIELD, Payload.text(start)));
        roundTrips.recordValue(System.nanoTime() - start);
        if ((i & 255) == 0) {
          deadline.check("redis sync publish");
        }
      }
    }
    return roundTrips;
  }

  @Override
  public double replay(String subject, int count) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    try (Jedis jedis = jedis()) {
      String group = "replay-" + System.nanoTime();
      jedis.xgroupCreate(subject, group, new StreamEntryID(0, 0), false);
      long start = System.nanoTime();
      long received = 0;
      while (received < count) {
        received += readAndAck(jedis, subject, group, null, deadline);
        deadline.check("redis replay");
      }
      return Rates.perSecond(received, System.nanoTime() - start);
    }
  }

  /** One XREADGROUP of up to {@link #READ_BATCH} new entries and one XACK of all of them. */
  private static int readAndAck(Jedis jedis, String key, String group, Histogram latency, Deadline deadline) {
    XReadGroupParams params = XReadGroupParams.xReadGroupParams().count(READ_BATCH);
    if (latency != null) {
      params.block((int) Math.max(1, Math.min(BLOCK_MS, deadline.remainingMs())));
    }
    List<Map.Entry<String, List<StreamEntry>>> read = jedis.xreadGroup(group, "consumer", params,
        Map.of(key, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
    if (read == null || read.isEmpty()) {
      return 0;
    }
    List<StreamEntry> entries = read.get(0).getValue();
    StreamEntryID[] ids = new StreamEntryID[entries.size()];
    long now = System.nanoTime();
    for (int i = 0; i < ids.length; i++) {
      ids[i] = entries.get(i).getID();
      if (latency != null) {
        latency.recordValue(Math.max(0, now - Payload.nanosOfText(entries.get(i).getFields().get(FIELD))));
      }
    }
    if (ids.length > 0) {
      jedis.xack(key, group, ids);
    }
    return ids.length;
  }

  @Override
  public FanOutResult fanOut(String subject, int count, int subscribers, int window) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    List<Thread> threads = new ArrayList<>();
    List<Histogram> latencies = new ArrayList<>();
    AtomicLong delivered = new AtomicLong();
    AtomicLong lastDelivery = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try (Jedis setup = jedis()) {
      for (int i = 0; i < subscribers; i++) {
        String group = "fan-" + i;
        setup.xgroupCreate(subject, group, StreamEntryID.XGROUP_LAST_ENTRY, true);
        Histogram latency = Rates.histogram();
        latencies.add(latency);
        threads.add(new Thread(() -> {
          try (Jedis jedis = jedis()) {
            long mine = 0;
            while (mine < count && deadline.remainingMs() > 0) {
              int read = readAndAck(jedis, subject, group, latency, deadline);
              mine += read;
              delivered.addAndGet(read);
            }
            lastDelivery.accumulateAndGet(System.nanoTime(), Math::max);
          } catch (RuntimeException e) {
            failure.compareAndSet(null, e);
          }
        }, "redis-subscriber-" + i));
      }
    }
    threads.forEach(Thread::start);
    long start = System.nanoTime();
    try (Jedis publisher = jedis()) {
      publishPipelined(publisher, List.of(subject), count, window, deadline);
    }
    for (Thread thread : threads) {
      thread.join(deadline.remainingMs() + 1);
    }
    if (failure.get() != null) {
      throw new IllegalStateException("redis fan-out failed", failure.get());
    }
    deadline.check("redis fan-out");
    return new FanOutResult(Rates.perSecond(delivered.get(), lastDelivery.get() - start), Rates.p99Micros(latencies),
        delivered.get(), (long) count * subscribers);
  }

  @Override
  public double manySubjects(String prefix, int subjects, int publishers, int count, int window) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    int perPublisher = count / publishers;
    for (int p = 0; p < publishers; p++) {
      List<String> own = new ArrayList<>();
      for (int s = p; s < subjects; s += publishers) {
        own.add(prefix + "." + s);
      }
      threads.add(new Thread(() -> {
        try (Jedis jedis = jedis()) {
          publishPipelined(jedis, own, perPublisher, window, deadline);
        } catch (Exception e) {
          failure.compareAndSet(null, e);
        }
      }, "redis-publisher-" + p));
    }
    long nanos = deadline.runAll(threads, failure, "redis many-subjects publish");
    return Rates.perSecond((long) perPublisher * publishers, nanos);
  }

  @Override
  public void close() {
    // Connections are per call.
  }
}
