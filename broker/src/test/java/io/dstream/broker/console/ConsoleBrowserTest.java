package io.dstream.broker.console;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.JwtSettings;
import io.dstream.broker.config.NatsSettings;
import io.nats.client.Connection;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.StreamConfiguration;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The web console in a real browser (headless Chromium) against a real broker: signing in and out,
 * a wrong key, subjects and messages appearing live, browsing, the state editor, deleting up to a
 * sequence, files up and down, a JetStream consumer's numbers with pause and resume, and a stored XSS
 * payload shown as text. Each test uses its own
 * subjects or keys, so they do not depend on each other's order.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleBrowserTest {

  private static final String XSS = "<img src=x onerror=alert(1)>";
  private static final String JWT_SECRET = "a-console-test-secret-long-enough-for-hs256";

  private Vertx vertx;
  private TestBroker broker;
  private WebClient web;
  private ConsoleBrowser browser;

  @BeforeAll
  void start() throws IOException {
    Optional<Path[]> installed = ConsoleBrowser.installed();
    assumeTrue(installed.isPresent(), "browser tests skipped: Chromium is not installed "
        + "(apt-get install chromium chromium-driver; .ci/run installs them)");
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx, b -> b.jwt(new JwtSettings(JWT_SECRET, null, null, List.of()))
        .nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT)));
    web = WebClient.create(vertx);
    browser = ConsoleBrowser.open(installed.get(), broker.port());
  }

  @AfterAll
  void stop() throws IOException {
    if (browser != null) {
      browser.close();
    }
    if (broker != null) {
      web.close();
      broker.close();
      vertx.close().await();
    }
  }

  @Test
  void aWrongKeyIsRefusedWithAClearMessageAndNothingIsKept() throws IOException {
    browser.signIn("not-the-key");
    browser.waitForText(By.id("sign-in-error"), "Wrong API key or token");
    assertEquals(0L, browser.script("return sessionStorage.length"));
    browser.screenshot("sign-in");
    assertTrue(browser.driver.findElement(By.id("nav")).getAttribute("hidden") != null);
  }

  @Test
  void anAdminTokenSignsInAndATokenWithoutTheAdminScopeIsToldWhyAndAnExpiredOneSignsOut() {
    JWTAuth issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
        new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(JWT_SECRET)));
    JsonObject reader = new JsonObject().put("sub", new JsonArray().add(">"));
    String plain = issuer.generateToken(new JsonObject().put("dstream", reader),
        new JWTOptions().setSubject("reader").setExpiresInSeconds(300));
    browser.signIn(plain);
    browser.waitForText(By.id("sign-in-error"), "has no admin scope");
    assertEquals(0L, browser.script("return sessionStorage.length"));

    String admin = issuer.generateToken(new JsonObject().put("dstream", reader.copy().put("admin", true)),
        new JWTOptions().setSubject("operator").setExpiresInSeconds(300));
    browser.signedIn(admin);
    browser.waitForText(By.id("who-label"), "token");

    // A token that expires while the console is open: the next refresh is refused and the console
    // signs out by itself, forgetting the token.
    String brief = issuer.generateToken(new JsonObject().put("dstream", reader.copy().put("admin", true)),
        new JWTOptions().setSubject("operator").setExpiresInSeconds(4));
    browser.signedIn(brief);
    new WebDriverWait(browser.driver, Duration.ofSeconds(20)).until(ExpectedConditions.textToBePresentInElementLocated(
        By.id("sign-in-error"), "no longer accepts the credential"));
    assertEquals(0L, browser.script("return sessionStorage.length"));
  }

  @Test
  void signInShowsTheOverviewAndSignOutForgetsTheCredential() throws IOException {
    double refused = broker.broker().metrics().unauthenticated.count();
    browser.signedIn(TestBroker.API_KEY);
    assertFalse(browser.driver.getCurrentUrl().contains(TestBroker.API_KEY), "the credential never goes in a URL");
    browser.waitFor(By.id("card-subjects"));
    // Charts need two samples (one interval) before they draw lines.
    new WebDriverWait(browser.driver, Duration.ofSeconds(15))
        .until(d -> browser.driver.findElements(By.cssSelector(".chart canvas")).size() == 3);
    browser.screenshot("overview");
    // Two page loads and a second of refreshes, none refused: in particular no /favicon.ico.
    assertEquals(refused, broker.broker().metrics().unauthenticated.count(), "requests the broker answered 401");

    browser.driver.findElement(By.id("sign-out")).click();
    browser.visible(By.id("sign-in-form"));
    assertEquals(0L, browser.script("return sessionStorage.length"));
    browser.get("/console/#/subjects");
    browser.visible(By.id("sign-in-form"));
  }

  @Test
  void aPublishedSubjectAndItsMessagesAppearLive() throws IOException {
    browser.signedIn(TestBroker.API_KEY);
    browser.get("/console/#/subjects");
    browser.visible(By.id("subject-prefix")).sendKeys("live.");
    try (V1TestClient publisher = V1TestClient.connect(vertx, broker.port(), "live.orders", TestBroker.API_KEY);
         V1TestClient subscriber = V1TestClient.connect(vertx, broker.port(), "live.orders", TestBroker.API_KEY)) {
      publisher.request(new JsonObject().put("item", "book"));
      By link = By.cssSelector("tr[data-subject='live.orders'] a");
      browser.waitFor(link);
      browser.screenshot("subjects");
      subscriber.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      subscriber.nextPush();
      browser.click(link);

      browser.waitFor(By.cssSelector("#message-rows tr[data-sequence='1']"));
      browser.waitForText(By.id("consumer-rows"), "websocket");
      browser.driver.findElement(By.id("live-tail")).click();
      publisher.request(new JsonObject().put("item", "pen"));
      WebElement second = browser.waitFor(By.cssSelector("#message-rows tr[data-sequence='2']"));
      assertTrue(second.getText().contains("\"item\":\"pen\""), second.getText());
      for (String item : new String[] {"lamp", "desk", "chair"}) {
        publisher.request(new JsonObject().put("item", item).put("qty", item.length()));
      }
      browser.waitFor(By.cssSelector("#message-rows tr[data-sequence='5']"));
      browser.driver.findElement(By.id("state-editor")).clear();
      browser.driver.findElement(By.id("state-editor")).sendKeys("{\"cursor\": 2, \"owner\": \"billing\"}");
      browser.driver.findElement(By.id("state-save")).click();
      browser.waitForText(By.id("state-result"), "Saved");
      browser.waitForText(By.id("consumer-rows"), "/ 256");
      browser.screenshot("subject");
    }
  }

  @Test
  void browsesFromASequence() {
    publish("browse.seq", 10);
    browser.signedIn(TestBroker.API_KEY);
    browser.get("/console/#/subject/browse.seq");
    browser.waitFor(By.cssSelector("#message-rows tr[data-sequence='10']"));
    browser.driver.findElement(By.id("browse-from")).sendKeys("7");
    browser.driver.findElement(By.id("browse-load")).click();
    browser.waitUntilGone(By.cssSelector("#message-rows tr[data-sequence='6']"));
    assertEquals("7", browser.driver.findElement(By.cssSelector("#message-rows tr")).getAttribute("data-sequence"));
    assertEquals(4, browser.driver.findElements(By.cssSelector("#message-rows tr")).size());
  }

  @Test
  void browsesFromATime() throws Exception {
    publish("browse.time", 3);
    // The time field has whole seconds: the next two are published after the next full second.
    long boundary = (System.currentTimeMillis() / 1000 + 1) * 1000;
    Thread.sleep(boundary - System.currentTimeMillis() + 50);
    publish("browse.time", 2);
    browser.signedIn(TestBroker.API_KEY);
    browser.get("/console/#/subject/browse.time");
    browser.waitFor(By.cssSelector("#message-rows tr[data-sequence='5']"));
    // The field takes the browser's local time, as an operator would type it.
    browser.script("const local = new Date(arguments[0] - new Date(arguments[0]).getTimezoneOffset() * 60000);"
        + "document.getElementById('browse-since').value = local.toISOString().slice(0, 19);", boundary);
    browser.driver.findElement(By.id("browse-load")).click();
    browser.waitUntilGone(By.cssSelector("#message-rows tr[data-sequence='3']"));
    assertEquals("4", browser.driver.findElement(By.cssSelector("#message-rows tr")).getAttribute("data-sequence"));
    assertEquals(2, browser.driver.findElements(By.cssSelector("#message-rows tr")).size());
  }

  @Test
  void editsTheStateWithValidation() {
    publish("state.edit", 1);
    browser.signedIn(TestBroker.API_KEY);
    browser.get("/console/#/subject/state.edit");
    WebElement editor = browser.visible(By.id("state-editor"));
    new WebDriverWait(browser.driver, Duration.ofSeconds(15))
        .until(ExpectedConditions.textToBePresentInElementValue(editor, "{}"));
    editor.clear();
    editor.sendKeys("{\"limit\": ");
    browser.waitForText(By.id("state-check"), "Not valid JSON");
    assertFalse(browser.driver.findElement(By.id("state-save")).isEnabled());
    editor.sendKeys("5}");
    browser.driver.findElement(By.id("state-save")).click();
    browser.waitForText(By.id("state-result"), "Saved");
    assertEquals(new JsonObject().put("limit", 5), admin("/admin/subjects/state.edit").getJsonObject("state"));
  }

  @Test
  void deletesUpToASequenceAfterAConfirmationNamingIt() {
    publish("delete.upto", 5);
    browser.signedIn(TestBroker.API_KEY);
    browser.get("/console/#/subject/delete.upto");
    browser.waitFor(By.cssSelector("#message-rows tr[data-sequence='5']"));
    browser.driver.findElement(By.id("delete-upto")).sendKeys("3");
    browser.driver.findElement(By.id("delete-button")).click();
    browser.waitForText(By.id("confirm-text"), "3 messages, sequences 1 to 3 of \"delete.upto\"");
    browser.driver.findElement(By.id("confirm-ok")).click();
    browser.waitForText(By.id("delete-result"), "Deleted up to 3");
    browser.waitUntilGone(By.cssSelector("#message-rows tr[data-sequence='1']"));
    JsonObject subject = admin("/admin/subjects/delete.upto");
    assertEquals(4L, subject.getLong("firstSequence"));
    assertEquals(2L, subject.getLong("messages"));
  }

  @Test
  void aStoredScriptPayloadIsShownAsTextAndNeverRuns() {
    try (V1TestClient publisher = V1TestClient.connect(vertx, broker.port(), "xss.probe", TestBroker.API_KEY)) {
      publisher.request(XSS);
    }
    browser.signedIn(TestBroker.API_KEY);
    browser.get("/console/#/subject/xss.probe");
    WebElement row = browser.waitFor(By.cssSelector("#message-rows tr[data-sequence='1'] pre"));
    assertEquals("\"" + XSS + "\"", row.getText());
    assertEquals(0L, browser.script("return document.querySelectorAll('#message-rows img').length"));
    assertThrows(NoAlertPresentException.class, () -> browser.driver.switchTo().alert());
  }

  @Test
  void uploadsDownloadsAndDeletesAFile() throws Exception {
    String name = "q4 " + XSS.replace("1", "2") + ".csv";
    Path upload = Files.createTempDirectory("dstream-upload").resolve(name);
    String content = "region,total\neu,42\n".repeat(2000);
    Files.writeString(upload, content);
    for (String key : new String[] {"console/reports/2026-11.json", "console/reports/2026-12.json", "console/notes.txt"}) {
      web.request(HttpMethod.PUT, broker.port(), "127.0.0.1", "/r2/" + key)
          .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).putHeader("Content-Type", "text/plain")
          .sendBuffer(Buffer.buffer("{\"total\":42}")).await();
    }
    browser.signedIn(TestBroker.API_KEY);
    browser.get("/console/#/files");
    browser.visible(By.id("file-prefix")).sendKeys("console/");
    browser.driver.findElement(By.id("upload-file")).sendKeys(upload.toString());
    browser.driver.findElement(By.id("upload-button")).click();
    browser.waitForText(By.id("upload-result"), "Uploaded console/" + name);
    String row = "tr[data-key='console/" + name + "']";
    WebElement listed = browser.waitFor(By.cssSelector(row));
    assertTrue(listed.getText().contains("console/" + name), listed.getText());
    assertEquals(0L, browser.script("return document.querySelectorAll('#file-rows img').length"));
    browser.screenshot("files");

    browser.click(By.cssSelector(row + " button[data-action='download']"));
    Path downloaded = browser.downloaded(content.length());
    // Chromium replaces the characters a file name may not hold on some systems (< > among them).
    assertTrue(downloaded.getFileName().toString().startsWith("q4 "), downloaded.toString());
    assertEquals(content, Files.readString(downloaded, StandardCharsets.UTF_8));

    browser.click(By.cssSelector(row + " button[data-action='delete']"));
    browser.waitForText(By.id("confirm-text"), "console/" + name);
    browser.driver.findElement(By.id("confirm-ok")).click();
    browser.waitUntilGone(By.cssSelector(row));
    assertEquals(404, request(HttpMethod.HEAD,
        "/r2/console/" + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20")).statusCode());
    assertThrows(NoAlertPresentException.class, () -> browser.driver.switchTo().alert());
  }

  @Test
  void aJetStreamConsumersNumbersShowAndItPausesAndResumes() throws Exception {
    Connection nc = Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + broker.broker().natsPort())
        .token(TestBroker.API_KEY.toCharArray()).noReconnect().build());
    try {
      nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("CONSOLE").subjects("console.jobs").build());
      for (int i = 1; i <= 3; i++) {
        nc.jetStream().publish("console.jobs", ("job" + i).getBytes(StandardCharsets.UTF_8));
      }
      nc.jetStreamManagement().addOrUpdateConsumer("CONSOLE", ConsumerConfiguration.builder().durable("worker").build());
      JetStreamSubscription sub = nc.jetStream().subscribe("console.jobs", PullSubscribeOptions.bind("CONSOLE", "worker"));
      List<Message> jobs = sub.fetch(3, Duration.ofSeconds(10));
      jobs.get(0).ackSync(Duration.ofSeconds(10));
      jobs.get(1).nak();
      Message again = sub.fetch(1, Duration.ofSeconds(10)).get(0);
      assertEquals(2, again.metaData().deliveredCount());
      again.ackSync(Duration.ofSeconds(10));
      // job3 stays unacked; a pull request waits for more (its inbox listened to: one nobody hears is dropped).
      nc.subscribe("_INBOX.console.wait");
      nc.publish("$JS.API.CONSUMER.MSG.NEXT.CONSOLE.worker", "_INBOX.console.wait",
          new JsonObject().put("batch", 1).put("expires", Duration.ofSeconds(60).toNanos()).encode()
              .getBytes(StandardCharsets.UTF_8));

      browser.signedIn(TestBroker.API_KEY);
      browser.get("/console/#/consumers");
      String row = "tr[data-consumer='CONSOLE/worker'] ";
      browser.waitForText(By.cssSelector(row + "td[data-field='waiting']"), "1");
      assertEquals("0", cell(row, "pending"));
      assertEquals("1", cell(row, "ackPending"), "job3");
      assertEquals("2", cell(row, "ackFloor"));
      assertEquals("1", cell(row, "redelivered"), "job2 after its NAK");
      assertFalse(cell(row, "lastActivity").equals("never"));
      assertEquals("no", cell(row, "paused"));

      browser.click(By.cssSelector(row + "button"));
      browser.waitForText(By.cssSelector(row + "td[data-field='paused']"), "until ");
      nc.jetStream().publish("console.jobs", "job4".getBytes(StandardCharsets.UTF_8));
      browser.waitForText(By.cssSelector(row + "td[data-field='pending']"), "1");
      assertEquals("1", cell(row, "waiting"), "paused: the waiting pull request gets nothing");
      browser.screenshot("consumers");

      browser.click(By.cssSelector(row + "button"));
      browser.waitForText(By.cssSelector(row + "td[data-field='paused']"), "no");
      browser.waitForText(By.cssSelector(row + "td[data-field='waiting']"), "0");
      assertEquals("0", cell(row, "pending"), "resumed: job4 went to the waiting request");
    } finally {
      nc.close();
    }
  }

  private String cell(String row, String field) {
    return browser.driver.findElement(By.cssSelector(row + "td[data-field='" + field + "']")).getText();
  }

  private void publish(String subject, int count) {
    try (V1TestClient publisher = V1TestClient.connect(vertx, broker.port(), subject, TestBroker.API_KEY)) {
      for (int i = 1; i <= count; i++) {
        publisher.request(new JsonObject().put("n", i));
      }
    }
  }

  private JsonObject admin(String uri) {
    return request(HttpMethod.GET, uri).bodyAsJsonObject();
  }

  private HttpResponse<Buffer> request(HttpMethod method, String uri) {
    return web.request(method, broker.port(), "127.0.0.1", uri)
        .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await();
  }
}
