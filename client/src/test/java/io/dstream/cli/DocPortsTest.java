package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DocPortsTest {

  @Test
  void aFreePortHoldingTheOtherDocsPortIsSwappedWhole() {
    DocPorts ports = new DocPorts(42225, 38787);
    String docs = "curl http://127.0.0.1:8787/stream/a; nats -s nats://127.0.0.1:4222 pub a b";
    String test = "curl http://127.0.0.1:42225/stream/a; nats -s nats://127.0.0.1:38787 pub a b";
    assertEquals(test, ports.toTest(docs));
    assertEquals(docs, ports.toDocs(test));
  }
}
