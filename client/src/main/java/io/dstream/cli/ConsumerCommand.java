package io.dstream.cli;

import io.dstream.client.AdminClient;
import io.dstream.client.DurableStream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "consumer", mixinStandardHelpOptions = true,
    description = "JetStream consumers through the admin API (the API key or an admin token): create, list, inspect,"
        + " delete, pause and resume.",
    subcommands = {ConsumerCommand.Add.class, ConsumerCommand.Ls.class, ConsumerCommand.Info.class,
        ConsumerCommand.Rm.class, ConsumerCommand.Pause.class},
    footer = {"", "Examples:", "  dstream consumer add ORDERS worker --ack explicit --ack-wait 30s",
        "  dstream consumer ls ORDERS", "  dstream consumer pause ORDERS worker --for 10m"})
final class ConsumerCommand {

  private ConsumerCommand() {
  }

  @Command(name = "add", mixinStandardHelpOptions = true,
      description = {"Creates a durable consumer on a declared stream, with the JetStream API's rules: a pull",
          "consumer unless --target gives a deliver subject."},
      footer = {"", "Examples:", "  dstream consumer add ORDERS worker --ack explicit --ack-wait 30s --max-deliver 5",
          "  dstream consumer add ORDERS audit --target audit.orders --deliver seq:100"})
  static final class Add implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "The stream (declared with the JetStream API, as nats stream add does)")
    String stream;

    @Parameters(index = "1", description = "The consumer's name")
    String name;

    @ArgGroup(exclusive = true)
    Kind kind;

    static final class Kind {
      @Option(names = "--pull", description = "A pull consumer: clients fetch (the default).")
      boolean pull;

      @Option(names = "--target", paramLabel = "SUBJECT", description = "A push consumer delivering to SUBJECT.")
      String target;
    }

    @Option(names = "--ack", paramLabel = "POLICY", description = "explicit (default), all or none.")
    String ack;

    @Option(names = "--ack-wait", paramLabel = "DURATION",
        description = "Resend a delivery not acked within this: 500ms, 30s (default), 2m.")
    String ackWait;

    @Option(names = "--max-deliver", paramLabel = "N", description = "Send a message at most N times (default: no limit).")
    Long maxDeliver;

    @Option(names = "--max-ack-pending", paramLabel = "N", description = "At most N unacked deliveries (default 1000).")
    Long maxAckPending;

    @Option(names = "--deliver", paramLabel = "START",
        description = "Where to start: all (default), new, last, seq:N, time:ISO-8601.")
    String deliver;

    @Option(names = "--filter", paramLabel = "SUBJECT", description = "The stream's subject (a stream is one subject).")
    String filter;

    @Override
    public Integer call() {
      JsonObject config = new JsonObject().put("name", name);
      if (kind != null && kind.target != null) {
        config.put("deliverSubject", kind.target);
      }
      if (ack != null) {
        config.put("ackPolicy", ack.toLowerCase(Locale.ROOT));
      }
      if (ackWait != null) {
        config.put("ackWaitMs", SubCommand.age(ackWait).toMillis());
      }
      config.put("maxDeliver", maxDeliver).put("maxAckPending", maxAckPending).put("filterSubject", filter);
      if (deliver != null) {
        start(config, deliver);
      }
      try (AdminClient admin = DurableStream.admin(common.clientOptions())) {
        JsonObject created = admin.addConsumer(stream, config).await();
        common.print(System.out, created, "consumer " + name + " created on " + stream + " ("
            + created.getString("type") + ", " + created.getLong("pending") + " pending)");
      }
      return ExitCode.OK;
    }

    /** {@code --deliver}: all, new, last, seq:N or time:ISO-8601, as the admin API's deliverPolicy and start. */
    private static void start(JsonObject config, String deliver) {
      String lower = deliver.toLowerCase(Locale.ROOT);
      if (lower.equals("all") || lower.equals("new") || lower.equals("last")) {
        config.put("deliverPolicy", lower);
      } else if (lower.startsWith("seq:")) {
        try {
          config.put("deliverPolicy", "by_start_sequence").put("startSequence", Long.parseLong(deliver.substring(4)));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--deliver seq:N needs a sequence number, got '" + deliver + "'");
        }
      } else if (lower.startsWith("time:")) {
        try {
          config.put("deliverPolicy", "by_start_time").put("startTime", Instant.parse(deliver.substring(5)).toString());
        } catch (DateTimeParseException e) {
          throw new IllegalArgumentException("--deliver time:T needs an ISO-8601 time such as 2026-11-22T10:00:00Z,"
              + " got '" + deliver + "'");
        }
      } else {
        throw new IllegalArgumentException("--deliver takes all, new, last, seq:N or time:ISO-8601, got '" + deliver
            + "'");
      }
    }
  }

  @Command(name = "ls", mixinStandardHelpOptions = true,
      description = "Lists consumers (of one stream, or all) with what they have left to do.",
      footer = {"", "Example:", "  dstream consumer ls ORDERS"})
  static final class Ls implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", arity = "0..1", description = "Only this stream's consumers")
    String stream;

    @Override
    public Integer call() {
      try (AdminClient admin = DurableStream.admin(common.clientOptions())) {
        JsonArray consumers = admin.consumers(stream).await().getJsonArray("consumers");
        if (!common.json) {
          System.out.printf("%-16s %-16s %-4s %9s %9s %9s %11s %7s  %-13s %s%n", "STREAM", "CONSUMER", "TYPE", "PENDING",
              "ACKPEND", "ACKFLOOR", "REDELIVERED", "WAITING", "LAST ACTIVE", "PAUSED");
        }
        long now = System.currentTimeMillis();
        for (int i = 0; i < consumers.size(); i++) {
          JsonObject c = consumers.getJsonObject(i);
          common.print(System.out, c, String.format("%-16s %-16s %-4s %9d %9d %9d %11d %7d  %-13s %s",
              c.getString("stream"), c.getString("name"), c.getString("type"), c.getLong("pending"),
              c.getLong("ackPending"), c.getLong("ackFloor"), c.getLong("redelivered"), c.getLong("waiting"),
              ago(c.getLong("lastActivityMs"), now), paused(c)));
        }
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "info", mixinStandardHelpOptions = true, description = "Prints one consumer's configuration and numbers.",
      footer = {"", "Example:", "  dstream consumer info ORDERS worker --json"})
  static final class Info implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Stream")
    String stream;

    @Parameters(index = "1", description = "Consumer")
    String name;

    @Override
    public Integer call() {
      try (AdminClient admin = DurableStream.admin(common.clientOptions())) {
        JsonObject c = admin.consumer(stream, name).await();
        common.print(System.out, c, describe(c, System.currentTimeMillis()));
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true, description = "Deletes a consumer and its saved state.",
      footer = {"", "Example:", "  dstream consumer rm ORDERS worker"})
  static final class Rm implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Stream")
    String stream;

    @Parameters(index = "1", description = "Consumer")
    String name;

    @Override
    public Integer call() {
      try (AdminClient admin = DurableStream.admin(common.clientOptions())) {
        admin.deleteConsumer(stream, name).await();
        common.print(System.out, new JsonObject().put("stream", stream).put("name", name).put("deleted", true),
            "consumer " + name + " deleted from " + stream);
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true,
      description = {"Pauses a consumer's deliveries (push, and answers to pull requests, which wait or time out)",
          "for a while or until a time, or resumes it. A durable consumer stays paused across restarts."},
      footer = {"", "Examples:", "  dstream consumer pause ORDERS worker --for 10m",
          "  dstream consumer pause ORDERS worker --until 2026-12-01T08:00:00Z", "  dstream consumer pause ORDERS worker --resume"})
  static final class Pause implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Stream")
    String stream;

    @Parameters(index = "1", description = "Consumer")
    String name;

    @ArgGroup(exclusive = true, multiplicity = "1")
    When when;

    static final class When {
      @Option(names = "--for", paramLabel = "DURATION", description = "For this long: 90s, 10m, 2h, 1d.")
      String duration;

      @Option(names = "--until", paramLabel = "TIME", description = "Until this ISO-8601 time.")
      String until;

      @Option(names = "--resume", description = "Resume it now.")
      boolean resume;
    }

    @Override
    public Integer call() {
      try (AdminClient admin = DurableStream.admin(common.clientOptions())) {
        JsonObject c;
        if (when.resume) {
          c = admin.resumeConsumer(stream, name).await();
        } else if (when.duration != null) {
          Duration duration = SubCommand.age(when.duration);
          if (duration.toMillis() <= 0) {
            throw new IllegalArgumentException("--for needs a duration above 0, got '" + when.duration + "'");
          }
          c = admin.pauseConsumer(stream, name, duration).await();
        } else {
          c = admin.pauseConsumer(stream, name, until(when.until)).await();
        }
        common.print(System.out, c, "consumer " + name + " of " + stream + " " + (c.getBoolean("paused")
            ? "paused until " + c.getString("pauseUntil") : "delivering"));
      }
      return ExitCode.OK;
    }

    private static Instant until(String text) {
      try {
        return Instant.parse(text);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("--until needs an ISO-8601 time such as 2026-12-01T08:00:00Z, got '" + text
            + "'");
      }
    }
  }

  /** {@code consumer info}'s text: one line per field, as {@code info} prints a subject. */
  static String describe(JsonObject c, long now) {
    JsonObject config = c.getJsonObject("config");
    long maxDeliver = config.getLong("maxDeliver");
    return String.join("\n",
        "stream:          " + c.getString("stream"),
        "consumer:        " + c.getString("name"),
        "subject:         " + c.getString("subject"),
        "type:            " + c.getString("type") + (c.getBoolean("durable") ? ", durable" : ", ephemeral")
            + (config.getString("deliverSubject") == null ? "" : ", delivers to " + config.getString("deliverSubject")),
        "ack:             " + config.getString("ackPolicy") + ", wait " + config.getLong("ackWaitMs") + " ms, max deliver "
            + (maxDeliver <= 0 ? "unlimited" : maxDeliver) + ", max ack pending " + config.getLong("maxAckPending"),
        "deliver policy:  " + config.getString("deliverPolicy"),
        "delivered:       " + c.getLong("delivered"),
        "pending:         " + c.getLong("pending"),
        "ack pending:     " + c.getLong("ackPending"),
        "ack floor:       " + c.getLong("ackFloor"),
        "redelivered:     " + c.getLong("redelivered"),
        "waiting pulls:   " + c.getLong("waiting"),
        "last delivery:   " + ago(c.getLong("lastDeliveryMs"), now),
        "last ack:        " + ago(c.getLong("lastAckMs"), now),
        "paused:          " + paused(c));
  }

  /** How long ago an epoch-ms time was, or {@code never} for 0. */
  static String ago(long epochMs, long now) {
    if (epochMs == 0) {
      return "never";
    }
    long seconds = Math.max(0, (now - epochMs) / 1000);
    if (seconds < 120) {
      return seconds + "s ago";
    }
    return seconds < 7200 ? seconds / 60 + "m ago" : seconds / 3600 + "h ago";
  }

  private static String paused(JsonObject c) {
    return c.getBoolean("paused") ? "until " + c.getString("pauseUntil") : "no";
  }
}
