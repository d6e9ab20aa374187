package io.dstream.cli;

import io.dstream.client.DurableStream;
import io.dstream.client.FileClient;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "files", mixinStandardHelpOptions = true, description = "The broker's file API (/r2/ on its S3 bucket).",
    subcommands = {FilesCommand.Ls.class, FilesCommand.Get.class, FilesCommand.Put.class, FilesCommand.Rm.class,
        FilesCommand.Stat.class, FilesCopy.class, FilesCommand.Share.class},
    footer = {"", "Examples:", "  dstream files put reports/2026-11.csv ./report.csv", "  dstream files ls reports/",
        "  dstream files cp -r ./photos r2:photos/", "  dstream files share reports/2026-11.csv --expires 1h"})
final class FilesCommand {

  static JsonObject json(FileClient.FileInfo info) {
    return new JsonObject().put("key", info.key()).put("size", info.size()).put("etag", info.etag())
        .put("contentType", info.contentType()).put("uploaded", info.uploaded()).put("customMetadata", info.customMetadata());
  }

  @Command(name = "ls", mixinStandardHelpOptions = true, description = "Lists files: KEY SIZE UPLOADED.",
      footer = {"", "Example:", "  dstream files ls reports/ --delimiter /"})
  static final class Ls implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", arity = "0..1", description = "Only keys starting with this prefix.")
    String prefix;

    @Option(names = "--delimiter", description = "Group keys by the part up to this (e.g. /) and list the groups.")
    String delimiter;

    @Override
    public Integer call() {
      try (FileClient files = DurableStream.files(common.clientOptions())) {
        String cursor = null;
        do {
          FileClient.FileList page = CommonOptions.await(files.list(prefix, delimiter, cursor, 1000));
          for (String group : page.delimitedPrefixes()) {
            common.print(System.out, new JsonObject().put("prefix", group), group);
          }
          for (FileClient.FileInfo info : page.files()) {
            common.print(System.out, json(info), info.key() + "\t" + info.size() + "\t" + info.uploaded());
          }
          cursor = page.truncated() ? page.cursor() : null;
        } while (cursor != null);
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true,
      description = {"Downloads a file to FILE, or to stdout. FILE appears only once the download is complete."},
      footer = {"", "Examples:", "  dstream files get reports/2026-11.csv ./copy.csv",
          "  dstream files get reports/2026-11.csv --range 0-99     # to stdout; also FIRST- and -SUFFIX"})
  static final class Get implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Key")
    String key;

    @Parameters(index = "1", arity = "0..1", description = "Target file; - or absent writes to stdout.")
    String target;

    @Option(names = "--range", description = "Bytes to get: FIRST-LAST, FIRST- or -SUFFIX_LENGTH.")
    String range;

    @Override
    public Integer call() {
      FileClient.ByteRange byteRange = range == null ? null : parseRange(range);
      boolean toStdout = target == null || target.equals("-");
      ProgressBar progress = new ProgressBar("get " + key, toStdout || common.json, true);
      try (FileClient files = DurableStream.files(common.clientOptions())) {
        FileClient.FileInfo info = toStdout
            ? CommonOptions.await(files.get(key, System.out, byteRange, progress::update))
            : CommonOptions.await(files.get(key, Path.of(target), byteRange, progress::update));
        progress.finish();
        if (!toStdout) {
          common.print(System.out, json(info), key + " -> " + target);
        }
      }
      return ExitCode.OK;
    }

    static FileClient.ByteRange parseRange(String text) {
      Matcher m = Pattern.compile("(\\d*)-(\\d*)").matcher(text);
      if (!m.matches() || m.group(1).isEmpty() && m.group(2).isEmpty()) {
        throw new IllegalArgumentException("--range must be FIRST-LAST, FIRST- or -SUFFIX_LENGTH, got '" + text + "'");
      }
      if (m.group(1).isEmpty()) {
        return FileClient.ByteRange.last(Long.parseLong(m.group(2)));
      }
      long first = Long.parseLong(m.group(1));
      return m.group(2).isEmpty() ? FileClient.ByteRange.from(first) : FileClient.ByteRange.of(first, Long.parseLong(m.group(2)));
    }
  }

  @Command(name = "put", mixinStandardHelpOptions = true, description = "Uploads FILE (or stdin) under KEY.",
      footer = {"", "Examples:", "  dstream files put reports/2026-11.csv ./report.csv --content-type text/csv",
          "  tar c ./logs | dstream files put backups/logs.tar -"})
  static final class Put implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Key")
    String key;

    @Parameters(index = "1", description = "File to upload, or - for stdin.")
    String source;

    @Option(names = "--content-type", description = "Stored Content-Type (default application/octet-stream).")
    String contentType;

    @Override
    public Integer call() {
      ProgressBar progress = new ProgressBar("put " + key, common.json, true);
      try (FileClient files = DurableStream.files(common.clientOptions())) {
        FileClient.FileInfo info = source.equals("-")
            ? CommonOptions.await(files.put(key, System.in, -1, contentType, progress::update))
            : CommonOptions.await(files.put(key, Path.of(source), contentType, progress::update));
        progress.finish();
        common.print(System.out, json(info), key + "\t" + info.size() + "\t" + info.etag());
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true, description = "Deletes a file (succeeds if it is absent too).",
      footer = {"", "Example:", "  dstream files rm reports/2026-11.csv"})
  static final class Rm implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Key")
    String key;

    @Override
    public Integer call() {
      try (FileClient files = DurableStream.files(common.clientOptions())) {
        CommonOptions.await(files.delete(key));
        common.print(System.out, new JsonObject().put("key", key).put("deleted", true), "deleted " + key);
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "stat", aliases = "head", mixinStandardHelpOptions = true,
      description = "Prints a file's size, etag, type and upload time (exit 5 if there is none).",
      footer = {"", "Example:", "  dstream files stat reports/2026-11.csv --json"})
  static final class Stat implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Key")
    String key;

    @Override
    public Integer call() {
      try (FileClient files = DurableStream.files(common.clientOptions())) {
        FileClient.FileInfo info = CommonOptions.await(files.head(key));
        common.print(System.out, json(info), "key:          " + info.key() + "\nsize:         " + info.size()
            + "\netag:         " + info.etag() + "\ncontent type: " + info.contentType()
            + "\nuploaded:     " + info.uploaded());
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "share", mixinStandardHelpOptions = true,
      description = {"Prints a link that downloads the file without a credential until it expires. The broker",
          "signs it (docs/storage.md, \"Share links\"); it passes through the broker's port, like every file call."},
      footer = {"", "Examples:", "  dstream files share reports/2026-11.csv --expires 1h",
          "  curl -sO \"$(dstream files share reports/2026-11.csv)\""})
  static final class Share implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Key")
    String key;

    @Option(names = "--expires", defaultValue = "1h", description = "Lifetime: 90s, 15m, 2h, 1d (default ${DEFAULT-VALUE}).")
    String expires;

    @Override
    public Integer call() {
      try (FileClient files = DurableStream.files(common.clientOptions())) {
        // The key must exist: a link to nothing would only fail later, in someone else's hands.
        CommonOptions.await(files.head(key));
        FileClient.ShareLink link = CommonOptions.await(files.share(key, SubCommand.age(expires)));
        common.print(System.out, new JsonObject().put("key", key).put("url", link.url()).put("expires", link.expires()),
            link.url());
      }
      return ExitCode.OK;
    }
  }
}
