package io.dstream.cli;

import io.dstream.client.ClientOptions;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "context", mixinStandardHelpOptions = true,
    description = {"Saved connection settings: URL, NATS URL, credential and trusted certificates, by name.",
        "Kept in $DSTREAM_CONFIG_DIR/contexts.json (default ~/.config/dstream/), readable by you only."},
    subcommands = {ContextCommand.Add.class, ContextCommand.Ls.class, ContextCommand.Select.class, ContextCommand.Rm.class},
    footer = {"", "Example:", "  dstream context add local --url http://127.0.0.1:8787 --api-key \"$(cat data/api-key)\" --select",
        "  dstream pub orders.eu '{\"item\":\"book\"}'     # no variables needed any more"})
final class ContextCommand {

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Saves (or replaces) a context.",
      footer = {"", "Example:", "  dstream context add prod --url https://broker.example --api-key \"$KEY\" --ca-file ca.pem"})
  static final class Add implements Callable<Integer> {
    @Parameters(index = "0", description = "Name")
    String name;

    @Option(names = {"-u", "--url"}, required = true, description = "Broker URL.")
    String url;

    @Option(names = "--nats-url", description = "The broker's NATS URL (default: nats://HOST-OF-URL:4222).")
    String natsUrl;

    @Option(names = {"-k", "--api-key"}, description = "API key or JWT.")
    String apiKey;

    @Option(names = "--ca-file", paramLabel = "PEM", description = "Certificates to trust for https/wss.")
    String trustedCertificates;

    @Option(names = "--select", description = "Select it too.")
    boolean select;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() {
      // Checked now rather than at first use, so a typo is caught where it was made.
      ClientOptions.builder().url(url).natsUrl(natsUrl);
      Contexts contexts = Contexts.load();
      contexts.put(new Contexts.Context(name, url, natsUrl, apiKey, trustedCertificates));
      if (select || contexts.selected() == null) {
        contexts.select(name);
      }
      contexts.save();
      System.out.println(json ? new JsonObject().put("name", name).put("selected", name.equals(contexts.selectedName()))
          .put("file", contexts.file().toString()).encode()
          : "context " + name + " saved" + (name.equals(contexts.selectedName()) ? " and selected" : "") + " in " + contexts.file());
      return ExitCode.OK;
    }
  }

  @Command(name = "ls", mixinStandardHelpOptions = true, description = "Lists contexts; * marks the selected one.",
      footer = {"", "Example:", "  dstream context ls --json"})
  static final class Ls implements Callable<Integer> {
    @Option(names = "--json", description = "One JSON object per line (keys not shown).")
    boolean json;

    @Override
    public Integer call() {
      Contexts contexts = Contexts.load();
      contexts.all().values().forEach(context -> {
        boolean selected = context.name().equals(contexts.selectedName());
        System.out.println(json
            ? new JsonObject().put("name", context.name()).put("url", context.url()).put("natsUrl", context.natsUrl())
                .put("selected", selected)
                .put("hasApiKey", context.apiKey() != null).put("trustedCertificates", context.trustedCertificates()).encode()
            : (selected ? "* " : "  ") + context.name() + "\t" + context.url());
      });
      return ExitCode.OK;
    }
  }

  @Command(name = "select", mixinStandardHelpOptions = true, description = "Makes a context the one commands use.",
      footer = {"", "Example:", "  dstream context select prod"})
  static final class Select implements Callable<Integer> {
    @Parameters(index = "0", description = "Name")
    String name;

    @Override
    public Integer call() {
      return change(name, Contexts::select, "selected");
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true, description = "Deletes a context.",
      footer = {"", "Example:", "  dstream context rm prod"})
  static final class Rm implements Callable<Integer> {
    @Parameters(index = "0", description = "Name")
    String name;

    @Override
    public Integer call() {
      return change(name, Contexts::remove, "deleted");
    }
  }

  /** Applies {@code change} to the named context, saves the file and says what was {@code done}. */
  private static Integer change(String name, BiConsumer<Contexts, String> change, String done) {
    Contexts contexts = Contexts.load();
    change.accept(contexts, name);
    contexts.save();
    System.out.println("context " + name + " " + done);
    return ExitCode.OK;
  }
}
