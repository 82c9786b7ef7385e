import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local on one address only. Its own main class has no host option and its Jetty listens on every
 * interface, which would put an unauthenticated event store on the LAN. This builds the same server from the
 * same command line, binds its connector to -Decshop.host (default 127.0.0.1) and starts it. It skips the
 * telemetry set-up of the original main class: nothing is sent.
 *
 * Run by src/devstack/dynamodb.ts in Java's source-file mode (no build step): java -cp <jar and libs>
 * DynamoDbLoopback.java -port 8000 ...
 */
public final class DynamoDbLoopback {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("ecshop.host", "127.0.0.1");
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    org.eclipse.jetty.server.Server jetty = (org.eclipse.jetty.server.Server) field.get(proxy);
    for (Connector connector : jetty.getConnectors()) {
      ((ServerConnector) connector).setHost(host);
    }
    proxy.start();
  }
}
