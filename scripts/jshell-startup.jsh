import dev.panamio.*;
import dev.panamio.http.*;
import java.time.Duration;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
