package io.dstream.cli;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Mints an HS256 token for a broker started with {@code DSTREAM_JWT_SECRET}, with the permissions
 * in the {@code dstream} claim that docs/security.md describes. Offline: it talks to no broker.
 */
@Command(name = "token", mixinStandardHelpOptions = true,
    description = "Mints an HS256 JWT for a broker with DSTREAM_JWT_SECRET (offline; prints the token).",
    footer = {"", "Example:", "  dstream token --sub alice --pub 'orders.>' --subscribe 'orders.*' --files-read reports/ --ttl 2h"})
final class TokenCommand implements Callable<Integer> {

  @Option(names = "--secret", defaultValue = "${env:DSTREAM_JWT_SECRET}",
      description = "The broker's HS256 secret (default: DSTREAM_JWT_SECRET).")
  String secret;

  @Option(names = "--sub", required = true, description = "Who the token is for (the standard sub claim; in the broker's logs).")
  String subject;

  @Option(names = "--pub", paramLabel = "PATTERN", description = "Subject pattern it may publish to (repeatable; * and >).")
  List<String> publish = new ArrayList<>();

  @Option(names = "--subscribe", paramLabel = "PATTERN", description = "Subject pattern it may subscribe to and read (repeatable).")
  List<String> subscribe = new ArrayList<>();

  @Option(names = "--files-read", paramLabel = "PREFIX", description = "File key prefix it may read and list (repeatable).")
  List<String> filesRead = new ArrayList<>();

  @Option(names = "--files-write", paramLabel = "PREFIX", description = "File key prefix it may write and delete (repeatable).")
  List<String> filesWrite = new ArrayList<>();

  @Option(names = "--admin", description = "Allows /metrics and the admin calls.")
  boolean admin;

  @Option(names = "--ttl", defaultValue = "1h", description = "Lifetime: 90s, 15m, 2h, 1d, ... (default ${DEFAULT-VALUE}).")
  String ttl;

  @Option(names = "--iss", description = "Issuer (iss); needed if the broker sets DSTREAM_JWT_ISSUER.")
  String issuer;

  @Option(names = "--aud", paramLabel = "AUDIENCE", description = "Audience (aud, repeatable); one must be in DSTREAM_JWT_AUDIENCE if set.")
  List<String> audience = new ArrayList<>();

  private static void checkPattern(String option, String pattern) {
    try {
      new SubjectPattern(pattern);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + ": " + e.getMessage() + " (the broker would refuse the token)", e);
    }
  }

  @Option(names = "--json", description = "Print {\"token\":...,\"expires\":...} instead of the token alone.")
  boolean json;

  @Override
  public Integer call() {
    if (secret == null || secret.isEmpty()) {
      throw new IllegalArgumentException("give the HS256 secret with --secret or DSTREAM_JWT_SECRET");
    }
    for (String pattern : publish) {
      checkPattern("--pub", pattern);
    }
    for (String pattern : subscribe) {
      checkPattern("--subscribe", pattern);
    }
    long ttlSeconds = SubCommand.age(ttl).toSeconds();
    if (ttlSeconds <= 0) {
      throw new IllegalArgumentException("--ttl must be at least 1s");
    }
    JsonObject permissions = new JsonObject().put("pub", new JsonArray(publish)).put("sub", new JsonArray(subscribe))
        .put("files", new JsonObject().put("read", new JsonArray(filesRead)).put("write", new JsonArray(filesWrite)))
        .put("admin", admin);
    JWTOptions options = new JWTOptions().setAlgorithm("HS256").setSubject(subject)
        .setExpiresInSeconds((int) Math.min(Integer.MAX_VALUE, ttlSeconds));
    if (issuer != null) {
      options.setIssuer(issuer);
    }
    if (!audience.isEmpty()) {
      options.setAudience(audience);
    }
    Vertx vertx = Vertx.vertx();
    try {
      JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions()
          .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
      String token = auth.generateToken(new JsonObject().put("dstream", permissions), options);
      System.out.println(json ? new JsonObject().put("token", token)
          .put("expires", Instant.now().plusSeconds(ttlSeconds).toString()).encode() : token);
      return ExitCode.OK;
    } finally {
      CommonOptions.await(vertx.close());
    }
  }
}
