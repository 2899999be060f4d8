package io.imagemirror.local.cli;

import io.imagemirror.api.MeteredApi;
import io.imagemirror.local.metrics.PrometheusMetrics;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.local.LocalRuntime;
import io.imagemirror.local.http.LocalHttpServer;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.reference.ReferenceGrammar;
import io.imagemirror.upstream.Upstream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code image-mirror serve}: the pull-through registry ({@code /v2}) and the mirror API ({@code /v1}). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the store as a read-only OCI registry that fetches what it lacks from upstream "
                + "(pull-through cache), and the /v1 mirror API.",
            "Point docker (registry-mirrors), containerd (hosts.toml), podman or skopeo at it."})
final class ServeCommand implements Callable<Integer> {

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Option(names = "--listen", defaultValue = "127.0.0.1:5000", paramLabel = "ADDR:PORT",
            description = "Where to listen. Default: ${DEFAULT-VALUE}. Port 0 picks a free port.")
    String listen;

    @Option(names = "--default-upstream", paramLabel = "HOST[:PORT]",
            description = "The upstream for names without a registry prefix (default: the configuration's, else docker.io).")
    String defaultUpstream;

    @Option(names = "--threads", defaultValue = "64", description = "Requests served at once. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        MirrorConfig config = parent.config();
        if (defaultUpstream != null) {
            String name = Upstream.canonicalName(defaultUpstream);
            if (!ReferenceGrammar.isRegistry(name)) {
                throw new ParameterException(spec.commandLine(), "--default-upstream " + EchoedInput.of(defaultUpstream)
                        + ": expected HOST[:PORT] (with a '.' or ':', or localhost; port 1-65535)");
            }
            if (config.upstream(name).isEmpty()) {
                config = config.withUpstream(new MirrorConfig.UpstreamConfig(name, null, false, null, null, null,
                        java.util.Set.of()));
            }
            config = config.withDefaultUpstream(name);
        }
        InetSocketAddress address = parseListen(listen);
        CountDownLatch stopped = new CountDownLatch(1);
        PrometheusMetrics metrics = new PrometheusMetrics();
        try (LocalRuntime rt = parent.runtime(config, true, metrics);
             LocalHttpServer server = LocalHttpServer.start(address, threads, metrics.serving(
                     new MeteredApi(rt.routes(address.getAddress().isLoopbackAddress()), metrics)),
                     LocalRuntime.accessLog(), Clock.systemUTC())) {
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "shutdown"));
            rt.startSweepTimer();
            // The file's rules join the stored ones; the planner runs them (and /v1/rules' ones) on its timer.
            rt.applyConfigRules();
            rt.startSyncTimer(java.time.Duration.ofMinutes(1));
            InetSocketAddress bound = server.address();
            out.println("image-mirror serving on http://" + bound.getAddress().getHostAddress() + ":" + bound.getPort()
                    + " (default upstream " + config.defaultUpstream() + ", upstreams " + config.upstreams().keySet() + ")");
            out.flush();
            stopped.await();
        }
        return 0;
    }

    static InetSocketAddress parseListen(String value) throws java.net.UnknownHostException {
        int colon = value.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("--listen " + value + ": expected ADDR:PORT");
        }
        String host = value.substring(0, colon).replace("[", "").replace("]", "");
        int port = Integer.parseInt(value.substring(colon + 1));
        return new InetSocketAddress(host.isEmpty() ? InetAddress.getLoopbackAddress() : InetAddress.getByName(host), port);
    }
}
