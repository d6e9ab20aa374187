package io.dstream.broker;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;

/**
 * Turns an {@link OutOfMemoryError} anywhere into a prompt exit with status {@link #EXIT_STATUS}
 * and one clear log line, so a supervisor restarts the broker instead of finding a process that
 * answers nothing and ignores SIGTERM (its threads died one by one). Acknowledged writes are safe
 * across the halt: they are in the store file (docs/architecture.md, Durability).
 *
 * <p>The JVM's own {@code -XX:+ExitOnOutOfMemoryError} does this best, but only from the command
 * line: a jar manifest cannot set JVM flags, and the flag is not manageable at run time. So the
 * broker catches the error where it surfaces: threads that die of it (the default uncaught-exception
 * handler: the writer thread, the JVM's own) and handlers on Vert.x contexts (its exception handler:
 * event loops, workers). It halts rather than exits: shutdown hooks would need the memory that is
 * gone, and could hang on threads that died holding locks.
 */
final class OutOfMemoryGuard {

  private static final Logger LOG = LoggerFactory.getLogger(OutOfMemoryGuard.class);
  static final int EXIT_STATUS = 3;
  /**
   * Written as prepared bytes straight to the standard error, because the logger needs memory to
   * format and may drop the line silently when the heap is gone (seen in OutOfMemoryExitTest).
   */
  private static final byte[] PREPARED_LINE = ("out of memory in the broker: exiting with status " + EXIT_STATUS
      + " so that a supervisor restarts it\n").getBytes(StandardCharsets.UTF_8);
  private static final FileOutputStream STANDARD_ERROR = new FileOutputStream(FileDescriptor.err);

  private OutOfMemoryGuard() {
  }

  /** Installs the uncaught-exception handler; call first thing in {@code main}. */
  static void install() {
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((thread, failure) -> {
      haltIfOutOfMemory(failure, thread.getName());
      if (previous != null) {
        previous.uncaughtException(thread, failure);
      } else {
        LOG.error("uncaught exception in thread {}", thread.getName(), failure);
      }
    });
    if (!jvmExitsOnOutOfMemory()) {
      LOG.info("running without -XX:+ExitOnOutOfMemoryError; the broker's own guard exits on an OutOfMemoryError");
    }
  }

  /** Makes {@code vertx} report what its handlers throw here. */
  static void watch(Vertx vertx) {
    vertx.exceptionHandler(failure -> {
      haltIfOutOfMemory(failure, Thread.currentThread().getName());
      LOG.error("unhandled exception in {}", Thread.currentThread().getName(), failure);
    });
  }

  static void haltIfOutOfMemory(Throwable failure, String where) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        try {
          STANDARD_ERROR.write(PREPARED_LINE);
          LOG.error("out of memory in {} ({}): exiting with status {} so that a supervisor restarts the broker",
              where, t.getMessage(), EXIT_STATUS);
        } catch (IOException | RuntimeException | Error ignored) {
          // Nothing more can be said; the halt below is what matters.
        } finally {
          Runtime.getRuntime().halt(EXIT_STATUS);
        }
      }
    }
  }

  private static boolean jvmExitsOnOutOfMemory() {
    return ManagementFactory.getRuntimeMXBean().getInputArguments().contains("-XX:+ExitOnOutOfMemoryError");
  }
}
