package io.dstream.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "completion", mixinStandardHelpOptions = true,
    description = {"Prints the shell completion script for bash or zsh (zsh runs it through bashcompinit).",
        "Completes commands, subcommands and options."},
    footer = {"", "Examples:", "  source <(dstream completion bash)                   # this shell",
        "  dstream completion bash > ~/.local/share/bash-completion/completions/dstream",
        "  echo 'autoload -U +X bashcompinit && bashcompinit; source <(dstream completion zsh)' >> ~/.zshrc"})
final class CompletionCommand implements Callable<Integer> {

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", defaultValue = "bash", description = "bash (default) or zsh")
  String shell;

  @Override
  public Integer call() {
    if (!shell.equals("bash") && !shell.equals("zsh")) {
      throw new IllegalArgumentException("completion is available for bash and zsh, not '" + shell + "'");
    }
    // picocli's script serves both: zsh loads it with bashcompinit.
    System.out.print(AutoComplete.bash("dstream", spec.root().commandLine()));
    return ExitCode.OK;
  }
}
