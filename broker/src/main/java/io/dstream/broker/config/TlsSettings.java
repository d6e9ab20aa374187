package io.dstream.broker.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * PEM files for serving HTTPS and WSS on the broker's one port.
 *
 * @param certificate the certificate chain (PEM), leaf first
 * @param privateKey  the private key (PEM, PKCS#8 or PKCS#1)
 */
public record TlsSettings(Path certificate, Path privateKey) {

  public TlsSettings {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
  }
}
