package io.dstream.cli;

import io.dstream.client.DurableStream;
import io.dstream.client.FileClient;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dstream files cp}: copies between local paths and keys, one file or (with {@code -r}) a
 * directory tree and a key prefix. Keys are written {@code r2:KEY}; exactly one side is remote.
 */
@Command(name = "cp", mixinStandardHelpOptions = true,
    description = {"Copies files between this machine and the broker; the remote side is written r2:KEY.",
        "A remote target ending in / (or -r) takes the local names below it. With -r a local directory",
        "is uploaded file by file under a key prefix, or every key under a prefix is downloaded into a directory."},
    footer = {"", "Examples:", "  dstream files cp ./report.csv r2:reports/", "  dstream files cp r2:reports/report.csv ./copy.csv",
        "  dstream files cp -r ./photos r2:backup/photos/", "  dstream files cp -r r2:backup/photos/ ./restored"})
final class FilesCopy implements Callable<Integer> {

  static final String REMOTE = "r2:";

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", description = "Source: a local path or r2:KEY")
  String source;

  @Parameters(index = "1", description = "Target: a local path or r2:KEY")
  String target;

  @Option(names = {"-r", "--recursive"}, description = "Copy a directory tree or a whole key prefix.")
  boolean recursive;

  @Override
  public Integer call() {
    boolean upload = target.startsWith(REMOTE);
    if (upload == source.startsWith(REMOTE)) {
      throw new IllegalArgumentException("exactly one of SOURCE and TARGET must be remote (r2:KEY)");
    }
    try (FileClient files = DurableStream.files(common.clientOptions())) {
      if (upload) {
        upload(files, Path.of(source), target.substring(REMOTE.length()));
      } else {
        download(files, source.substring(REMOTE.length()), Path.of(target));
      }
    }
    return ExitCode.OK;
  }

  private void upload(FileClient files, Path from, String to) {
    if (!Files.isDirectory(from)) {
      String key = to.isEmpty() || to.endsWith("/") ? to + from.getFileName() : to;
      put(files, from, key);
      return;
    }
    if (!recursive) {
      throw new IllegalArgumentException(from + " is a directory: add -r to copy it");
    }
    String prefix = to.isEmpty() || to.endsWith("/") ? to : to + "/";
    List<Path> tree;
    try (Stream<Path> walk = Files.walk(from)) {
      tree = walk.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + from + ": " + e.getMessage(), e);
    }
    for (Path file : tree) {
      put(files, file, prefix + from.relativize(file).toString().replace(from.getFileSystem().getSeparator(), "/"));
    }
  }

  private void put(FileClient files, Path file, String key) {
    ProgressBar progress = new ProgressBar("put " + key, common.json, true);
    FileClient.FileInfo info = CommonOptions.await(files.put(key, file, null, progress::update));
    progress.finish();
    common.print(System.out, FilesCommand.json(info).put("source", file.toString()), file + " -> " + REMOTE + key);
  }

  private void download(FileClient files, String from, Path to) {
    if (!recursive) {
      Path file = Files.isDirectory(to) ? to.resolve(from.substring(from.lastIndexOf('/') + 1)) : to;
      get(files, from, file);
      return;
    }
    String prefix = from.isEmpty() || from.endsWith("/") ? from : from + "/";
    List<String> keys = new ArrayList<>();
    String cursor = null;
    do {
      FileClient.FileList page = CommonOptions.await(files.list(prefix, null, cursor, 1000));
      page.files().forEach(info -> keys.add(info.key()));
      cursor = page.truncated() ? page.cursor() : null;
    } while (cursor != null);
    Path root = to.toAbsolutePath().normalize();
    for (String key : keys) {
      Path file = root.resolve(key.substring(prefix.length())).normalize();
      if (!file.startsWith(root) || file.equals(root)) {
        throw new IllegalStateException("key '" + key + "' would land outside " + to + "; copy it on its own");
      }
      try {
        Files.createDirectories(file.getParent());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create " + file.getParent() + ": " + e.getMessage(), e);
      }
      get(files, key, file);
    }
  }

  private void get(FileClient files, String key, Path file) {
    ProgressBar progress = new ProgressBar("get " + key, common.json, true);
    FileClient.FileInfo info = CommonOptions.await(files.get(key, file, null, progress::update));
    progress.finish();
    common.print(System.out, new JsonObject().mergeIn(FilesCommand.json(info)).put("target", file.toString()),
        REMOTE + key + " -> " + file);
  }
}
