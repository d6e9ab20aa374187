package io.dstream.broker.console;

import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Debian's headless Chromium driven through its chromedriver, on a fresh profile, isolated from the
 * network: no sync, no component updates, no background requests. Screenshots go to
 * {@code target/console-screenshots} at 1280×800.
 */
final class ConsoleBrowser implements AutoCloseable {

  private static final List<String> CHROMIUM = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser");
  private static final List<String> DRIVER = List.of("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
  static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
  private static final Duration WAIT = Duration.ofSeconds(15);

  final ChromeDriver driver;
  final Path downloads;
  private final Path profile;
  private final String base;

  private ConsoleBrowser(ChromeDriver driver, Path profile, Path downloads, String base) {
    this.driver = driver;
    this.profile = profile;
    this.downloads = downloads;
    this.base = base;
  }

  /** The Chromium binary and its driver, if both are installed. */
  static Optional<Path[]> installed() {
    Optional<Path> chromium = first(CHROMIUM);
    Optional<Path> driver = first(DRIVER);
    return chromium.isPresent() && driver.isPresent()
        ? Optional.of(new Path[] {chromium.get(), driver.get()}) : Optional.empty();
  }

  private static Optional<Path> first(List<String> candidates) {
    return candidates.stream().map(Path::of).filter(Files::isExecutable).findFirst();
  }

  static ConsoleBrowser open(Path[] installed, int port) throws IOException {
    Path profile = Files.createTempDirectory("dstream-chromium");
    Path downloads = Files.createTempDirectory("dstream-downloads");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(installed[0].toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,800", "--user-data-dir=" + profile);
    options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(),
        "download.prompt_for_download", false));
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(installed[1].toFile())
        .usingAnyFreePort().build();
    ChromeDriver driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(WAIT);
    // The page's viewport, not the window, is what a screenshot shows: 1280x800 exactly.
    driver.executeCdpCommand("Emulation.setDeviceMetricsOverride",
        Map.of("width", 1280, "height", 800, "deviceScaleFactor", 1, "mobile", false));
    driver.executeCdpCommand("Browser.setDownloadBehavior",
        Map.of("behavior", "allow", "downloadPath", downloads.toString()));
    return new ConsoleBrowser(driver, profile, downloads, "http://127.0.0.1:" + port);
  }

  void get(String path) {
    driver.get(base + path);
  }

  /**
   * Opens the console signed out (the tab forgets any credential of an earlier test) and signs in
   * with {@code credential}; does not wait for the outcome.
   */
  void signIn(String credential) {
    get("/console/");
    script("sessionStorage.clear()");
    driver.navigate().refresh();
    WebElement input = visible(By.id("credential"));
    input.clear();
    input.sendKeys(credential);
    driver.findElement(By.id("sign-in-button")).click();
  }

  void signedIn(String credential) {
    signIn(credential);
    visible(By.id("nav"));
    waitFor(By.cssSelector("#overview-cards .card"));
  }

  WebElement visible(By by) {
    return new WebDriverWait(driver, WAIT).until(ExpectedConditions.visibilityOfElementLocated(by));
  }

  WebElement waitFor(By by) {
    return new WebDriverWait(driver, WAIT).until(ExpectedConditions.presenceOfElementLocated(by));
  }

  /**
   * Clicks the element {@code by} finds, finding it again if the page re-rendered it in between
   * (the files list refreshes itself, so an element found earlier may be gone by the click).
   */
  void click(By by) {
    new WebDriverWait(driver, WAIT).ignoring(StaleElementReferenceException.class).until(d -> {
      d.findElement(by).click();
      return true;
    });
  }

  void waitForText(By by, String text) {
    new WebDriverWait(driver, WAIT).until(ExpectedConditions.textToBePresentInElementLocated(by, text));
  }

  void waitUntilGone(By by) {
    new WebDriverWait(driver, WAIT).until(ExpectedConditions.numberOfElementsToBe(by, 0));
  }

  /** Waits for a finished download of {@code length} bytes and returns it. */
  Path downloaded(long length) {
    return new WebDriverWait(driver, WAIT).until(d -> {
      try (Stream<Path> files = Files.list(downloads)) {
        return files.filter(f -> !f.toString().endsWith(".crdownload") && f.toFile().length() == length)
            .findFirst().orElse(null);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  Object script(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /** Writes the top of the page, 1280x800, to {@code target/console-screenshots/NAME.png}. */
  void screenshot(String name) throws IOException {
    Files.createDirectories(SCREENSHOTS);
    script("window.scrollTo(0, 0)");
    Path shot = driver.getScreenshotAs(OutputType.FILE).toPath();
    Files.copy(shot, SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public void close() throws IOException {
    driver.quit();
    for (Path dir : List.of(profile, downloads)) {
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      }
    }
  }
}
