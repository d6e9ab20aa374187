package io.dstream.broker.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Slows what the loopback interface carries to some TCP ports (Linux {@code tc}: an HTB root on
 * {@code lo}, one rate-limited class per port, everything else at 10 Gbit/s), so that a test can hold
 * a replica in the middle of catching up. Needs root; {@link #available()} says whether it works here.
 * Closing removes the root qdisc, which a test must not leave behind: a JVM shutdown hook does it too.
 */
final class LoopbackThrottle implements AutoCloseable {

  private final Thread cleanup = new Thread(LoopbackThrottle::removeQuietly, "loopback-throttle-cleanup");

  private LoopbackThrottle() {
  }

  /** Whether {@code tc} may change the loopback interface's queueing here (root, HTB and u32 present). */
  static boolean available() {
    try {
      if (!run("id", "-u").trim().equals("0")) {
        return false;
      }
      addRoot();
      run("tc", "filter", "add", "dev", "lo", "protocol", "ip", "parent", "1:0", "prio", "1", "u32", "match", "ip",
          "dport", "9", "0xffff", "flowid", "1:10");
      return true;
    } catch (IOException e) {
      return false;
    } finally {
      removeQuietly();
    }
  }

  /** Limits each of {@code ports} (as destination) to {@code rate} (tc's syntax: {@code 1mbit}). */
  static LoopbackThrottle to(List<Integer> ports, String rate) throws IOException {
    LoopbackThrottle throttle = new LoopbackThrottle();
    Runtime.getRuntime().addShutdownHook(throttle.cleanup);
    try {
      addRoot();
      int classId = 20;
      for (int port : ports) {
        run("tc", "class", "add", "dev", "lo", "parent", "1:", "classid", "1:" + classId, "htb", "rate", rate,
            "ceil", rate);
        run("tc", "filter", "add", "dev", "lo", "protocol", "ip", "parent", "1:0", "prio", "1", "u32", "match", "ip",
            "dport", Integer.toString(port), "0xffff", "flowid", "1:" + classId);
        classId += 10;
      }
      return throttle;
    } catch (IOException | RuntimeException e) {
      throttle.close();
      throw e;
    }
  }

  @Override
  public void close() {
    removeQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(cleanup);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs, or ran, anyway
    }
  }

  /** The HTB root on {@code lo}, whose default class (everything not throttled) runs at 10 Gbit/s. */
  private static void addRoot() throws IOException {
    run("tc", "qdisc", "replace", "dev", "lo", "root", "handle", "1:", "htb", "default", "10");
    run("tc", "class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit");
  }

  private static void removeQuietly() {
    try {
      run("tc", "qdisc", "del", "dev", "lo", "root");
    } catch (IOException e) {
      // nothing to remove
    }
  }

  private static String run(String... command) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(String.join(" ", command) + ": no exit within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(String.join(" ", command) + ": interrupted", e);
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " exited with " + process.exitValue() + ": " + output.trim());
    }
    return output;
  }
}
