package io.dstream.cli;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The saved connection settings ({@code dstream context}): named contexts of URL, NATS URL, credential and
 * trusted certificates, and which one is selected, in one JSON file readable by its owner only
 * (mode 600, in a directory of mode 700), so no environment variable is needed after the first
 * setup. The file is {@code $DSTREAM_CONFIG_DIR/contexts.json}, by default
 * {@code $XDG_CONFIG_HOME/dstream/} or {@code ~/.config/dstream/}. It is rewritten whole through a
 * temporary file and a rename, so a crash leaves the old or the new file, never half of one.
 *
 * <p>Format: {@code {"selected":"NAME","contexts":{"NAME":{"url":"...","natsUrl":"...","apiKey":"...",
 * "trustedCertificates":"..."}}}}; a file written before {@code natsUrl} existed reads as contexts without one.
 * Not thread-safe; the CLI uses it from its main thread.
 */
final class Contexts {

  static final String FILE_NAME = "contexts.json";

  /** One saved context; all but {@code name} and {@code url} may be null. */
  record Context(String name, String url, String natsUrl, String apiKey, String trustedCertificates) {
    JsonObject json() {
      return new JsonObject().put("url", url).put("natsUrl", natsUrl).put("apiKey", apiKey)
          .put("trustedCertificates", trustedCertificates);
    }
  }

  private final Path file;
  private final Map<String, Context> contexts = new LinkedHashMap<>();
  private String selected;

  private Contexts(Path file) {
    this.file = file;
  }

  /** @return the directory of the contexts file, from the environment */
  static Path directory() {
    String own = System.getenv("DSTREAM_CONFIG_DIR");
    if (own != null && !own.isBlank()) {
      return Path.of(own);
    }
    String xdg = System.getenv("XDG_CONFIG_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
    return base.resolve("dstream");
  }

  /** Reads the contexts file; a missing file is an empty set. */
  static Contexts load() {
    Contexts loaded = new Contexts(directory().resolve(FILE_NAME));
    if (!Files.exists(loaded.file)) {
      return loaded;
    }
    JsonObject json;
    try {
      json = new JsonObject(Files.readString(loaded.file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + loaded.file + ": " + e.getMessage(), e);
    } catch (DecodeException e) {
      throw new IllegalStateException(loaded.file + " is not valid JSON; fix or delete it", e);
    }
    loaded.selected = json.getString("selected");
    json.getJsonObject("contexts", new JsonObject()).forEach(entry -> {
      JsonObject context = (JsonObject) entry.getValue();
      loaded.contexts.put(entry.getKey(), new Context(entry.getKey(), context.getString("url"),
          context.getString("natsUrl"), context.getString("apiKey"), context.getString("trustedCertificates")));
    });
    return loaded;
  }

  Path file() {
    return file;
  }

  Map<String, Context> all() {
    return contexts;
  }

  /** @return the selected context, or null */
  Context selected() {
    return selected == null ? null : contexts.get(selected);
  }

  String selectedName() {
    return selected;
  }

  /** @return the named context; fails with a usage error naming the known ones if there is none */
  Context get(String name) {
    Context context = contexts.get(name);
    if (context == null) {
      throw new IllegalArgumentException("no context '" + name + "'" + (contexts.isEmpty()
          ? "; add one with: dstream context add NAME --url URL" : "; known: " + String.join(", ", contexts.keySet())));
    }
    return context;
  }

  void put(Context context) {
    contexts.put(context.name(), context);
  }

  void select(String name) {
    get(name);
    selected = name;
  }

  void remove(String name) {
    get(name);
    contexts.remove(name);
    if (name.equals(selected)) {
      selected = null;
    }
  }

  /** Writes the file (mode 600) through a temporary file and an atomic rename. */
  void save() {
    JsonObject all = new JsonObject();
    contexts.values().forEach(context -> all.put(context.name(), context.json()));
    JsonObject json = new JsonObject().put("selected", selected).put("contexts", all);
    try {
      Path dir = file.getParent();
      if (!Files.exists(dir)) {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
      Path temp = Files.createTempFile(dir, FILE_NAME, ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(temp, json.encodePrettily() + "\n", StandardCharsets.UTF_8);
      try {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
