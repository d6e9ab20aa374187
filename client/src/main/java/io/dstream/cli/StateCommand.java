package io.dstream.cli;

import io.dstream.client.StreamConnection;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "state", mixinStandardHelpOptions = true, description = "Reads or replaces a subject's state object.",
    subcommands = {StateCommand.Get.class, StateCommand.Put.class},
    footer = {"", "Examples:", "  dstream state put orders.eu '{\"cursor\":3}'", "  dstream state get orders.eu --json"})
final class StateCommand {

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Prints the state object ({} if never set).",
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
        JsonObject state = CommonOptions.await(connection.getState());
        System.out.println(common.json ? state.encode() : state.encodePrettily());
        return ExitCode.OK;
      } finally {
        CommonOptions.await(connection.close());
      }
    }
  }

  @Command(name = "put", mixinStandardHelpOptions = true, description = "Replaces the state object.",
      footer = {"", "Examples:", "  dstream state put orders.eu '{\"cursor\":3}'", "  echo '{\"cursor\":4}' | dstream state put orders.eu -"})
  static final class Put implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Subject")
    String subject;

    @Parameters(index = "1", arity = "0..1", description = "The state, a JSON object; - or absent reads it from stdin.")
    String state;

    @Override
    public Integer call() throws Exception {
      JsonObject parsed = JsonArgs.object(state == null || state.equals("-") ? JsonArgs.readStdin() : state, "the state");
      StreamConnection connection = common.connect(subject);
      try {
        CommonOptions.await(connection.putState(parsed));
        common.print(System.out, new JsonObject().put("subject", subject).put("state", parsed), "state of " + subject + " replaced");
        return ExitCode.OK;
      } finally {
        CommonOptions.await(connection.close());
      }
    }
  }
}
