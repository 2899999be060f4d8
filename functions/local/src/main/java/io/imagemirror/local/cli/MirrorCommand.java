package io.imagemirror.local.cli;

import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.JobJson;
import io.imagemirror.jobs.MirrorJobResult;
import io.imagemirror.local.LocalRuntime;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorResult;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code image-mirror mirror REF}: copies an image (every platform, byte for byte) into the store. */
@Command(name = "mirror", mixinStandardHelpOptions = true,
        description = {"Copy an image from its upstream registry into the store, like docker pull but for every "
                + "platform and byte-identical.", "Layers already stored are reused (\"Already exists\")."})
final class MirrorCommand implements Callable<Integer> {

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "REF", description = "image reference, e.g. alpine:3.20 or ghcr.io/org/app@sha256:...")
    String reference;

    @Option(names = {"-a", "--all-tags"}, description = "Mirror every tag of the repository.")
    boolean allTags;

    @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]",
            description = "Copy only this platform of a multi-platform image (repeatable); the index is kept as is.")
    List<String> platforms = new ArrayList<>();

    @Option(names = "--referrers", description = "Also copy signatures, SBOMs and attestations that refer to the image.")
    boolean referrers;

    @Option(names = "--include-non-distributable", description = "Also copy foreign / non-distributable layers.")
    boolean nonDistributable;

    @Option(names = "--json", description = "Print the result as JSON instead of a summary.")
    boolean json;

    @Option(names = {"-q", "--quiet"}, description = "Print only the digest of each mirrored reference.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        MirrorConfig config = parent.config();
        ImageReference ref = new NameRouter(config).resolve(reference);
        List<Platform> wanted = new ArrayList<>();
        for (String p : platforms) {
            wanted.add(Platform.parse(p));
        }
        MirrorRequest request = new MirrorRequest(ref, wanted, allTags, referrers, nonDistributable, Cause.CLI);
        try (LocalRuntime rt = parent.runtime(config, false)) {
            ProgressDisplay display = quiet || json ? null : ProgressDisplay.forOutput(out);
            MirrorResult result = rt.mirror().mirror(request, display == null ? MirrorListener.NONE : display);
            if (display != null) {
                display.finish();
            }
            if (json) {
                out.println(JobJson.result(MirrorJobResult.of(result)));
            } else if (quiet) {
                result.images().forEach(i -> out.println(i.digest()));
            } else {
                for (MirrorResult.Image i : result.images()) {
                    out.println(i.reference() + ": digest " + i.digest());
                    out.println("Status: " + (i.upToDate() ? "Image is up to date for " : "Mirrored ") + i.reference());
                }
                out.printf("%d image(s), %s copied, %s reused, %.1fs%n", result.images().size(),
                        PlainProgress.human(result.bytesCopied()), PlainProgress.human(result.bytesReused()),
                        result.duration().toMillis() / 1000.0);
            }
            out.flush();
            return 0;
        }
    }
}
