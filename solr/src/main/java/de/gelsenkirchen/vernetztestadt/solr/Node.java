package de.gelsenkirchen.vernetztestadt.solr;

import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Starts one Solr node: Solr's own JettySolrRunner (the servlet set-up a
 * Solr distribution's web.xml installs) on 127.0.0.1:&lt;port&gt;/solr with the
 * given Solr home, then waits until the JVM is stopped.
 *
 * <p>Usage: {@code java -cp target/classes:target/lib/* -Dsolr.log.dir=... \
 * de.gelsenkirchen.vernetztestadt.solr.Node <solr-home> <port>}. Standalone
 * or SolrCloud is decided by solr.xml ({@code -DzkHost=...}). Everything else
 * (cores, configsets, collections) is Solr's own HTTP API.
 */
public final class Node {
  private Node() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: Node <solr-home> <port>");
      System.exit(2);
    }
    JettyConfig config =
        JettyConfig.builder()
            .setPort(Integer.parseInt(args[1]))
            .setContext("/solr")
            .stopAtShutdown(true) // SIGTERM closes cores and the index cleanly
            .withPortRetryTime(0) // a busy port fails at once
            .build();
    JettySolrRunner runner = new JettySolrRunner(args[0], config);
    runner.start();
    System.out.println("solr node ready on port " + runner.getLocalPort());
    Thread.currentThread().join();
  }
}
