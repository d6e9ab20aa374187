package io.dstream.cli;

import io.dstream.client.StreamConnection;
import io.dstream.client.VersionedState;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "state", mixinStandardHelpOptions = true,
    description = "Reads, replaces or watches a subject's state object and its revision.",
    subcommands = {StateCommand.Get.class, StateCommand.Put.class, StateCommand.Watch.class},
    footer = {"", "Examples:", "  dstream state put orders.eu '{\"cursor\":3}'", "  dstream state get orders.eu --json",
        "  dstream state put orders.eu '{\"cursor\":4}' --expect-revision 1", "  dstream state watch orders.eu --count 2"})
final class StateCommand {

  private static JsonObject json(String subject, VersionedState state) {
    return new JsonObject().put("subject", subject).put("revision", state.revision()).put("state", state.state());
  }

  @Command(name = "get", mixinStandardHelpOptions = true,
      description = "Prints the state object ({} if never set) and its revision (0 if never set).",
      footer = {"", "Example:", "  dstream state get orders.eu --json"})
  static final class Get implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Subject")
    String subject;

    @Override
    public Integer call() {
      StreamConnection connection = common.connect(subject);
      try {
        VersionedState state = CommonOptions.await(connection.getVersionedState());
        common.print(System.out, json(subject, state), state.state().encodePrettily() + "\nrevision " + state.revision());
        return ExitCode.OK;
      } finally {
        CommonOptions.await(connection.close());
      }
    }
  }

  @Command(name = "put", mixinStandardHelpOptions = true,
      description = "Replaces the state object; with --expect-revision only if it is still at that revision.",
      footer = {"", "Examples:", "  dstream state put orders.eu '{\"cursor\":3}'", "  echo '{\"cursor\":4}' | dstream state put orders.eu -",
          "  dstream state put orders.eu '{\"cursor\":5}' --expect-revision 2"})
  static final class Put implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Subject")
    String subject;

    @Parameters(index = "1", arity = "0..1", description = "The state, a JSON object; - or absent reads it from stdin.")
    String state;

    @Option(names = "--expect-revision", paramLabel = "N",
        description = "Write only if the state is at revision N (else exit 1 and write nothing).")
    Long expectRevision;

    @Override
    public Integer call() throws Exception {
      if (expectRevision != null && expectRevision < 0) {
        throw new IllegalArgumentException("--expect-revision must be a revision, 0 or more");
      }
      JsonObject parsed = JsonArgs.object(state == null || state.equals("-") ? JsonArgs.readStdin() : state, "the state");
      StreamConnection connection = common.connect(subject);
      try {
        long revision = CommonOptions.await(expectRevision == null ? connection.putState(parsed)
            : connection.putState(parsed, expectRevision));
        common.print(System.out, json(subject, new VersionedState(parsed, revision)),
            "state of " + subject + " replaced: revision " + revision);
        return ExitCode.OK;
      } finally {
        CommonOptions.await(connection.close());
      }
    }
  }

  @Command(name = "watch", mixinStandardHelpOptions = true,
      description = {"Prints the state object and its revision, then every change, until --count states were printed"
          + " or Ctrl-C. A watcher that cannot keep up skips to the newest state."},
      footer = {"", "Example:", "  dstream state watch orders.eu --json --count 2"})
  static final class Watch implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Subject")
    String subject;

    @Option(names = "--count", description = "Exit after printing this many states (the current one included).")
    Long count;

    @Override
    public Integer call() throws Exception {
      long wanted = count == null ? Long.MAX_VALUE : count;
      if (wanted < 1) {
        throw new IllegalArgumentException("--count must be at least 1");
      }
      StreamConnection connection = common.connect(subject);
      CountDownLatch done = new CountDownLatch(1);
      AtomicLong printed = new AtomicLong();
      connection.closeHandler(v -> done.countDown());
      try {
        CommonOptions.await(connection.watchState(state -> {
          if (printed.get() >= wanted) {
            return;
          }
          common.print(System.out, json(subject, state), "revision " + state.revision() + ": " + state.state().encode());
          System.out.flush();
          if (printed.incrementAndGet() >= wanted) {
            done.countDown();
          }
        }));
        done.await();
        return printed.get() >= wanted ? ExitCode.OK : ExitCode.FAILED;
      } finally {
        CommonOptions.await(connection.close());
      }
    }
  }
}
