package io.imagemirror.local.cli;

import io.imagemirror.cache.NameRouter;
import io.imagemirror.reference.InvalidReferenceException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code image-mirror ref REF...}: prints each reference in its canonical, fully qualified form, as
 * {@code mirror}, {@code POST /v1/mirror} and {@code /v2} resolve it with the same configuration
 * (default upstream, prefixes). Whether the registry is configured is not checked.
 */
@Command(name = "ref", mixinStandardHelpOptions = true,
        description = {"Print each image reference in canonical form (registry/repository:tag[@digest]), "
                + "as this mirror resolves it.",
            "Invalid references are reported on stderr; the exit status is then 1."})
final class RefCommand implements Callable<Integer> {

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "REF", description = "image references, e.g. alpine or ghcr.io/org/app:1.0")
    List<String> references;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        NameRouter names = new NameRouter(parent.config());
        int status = 0;
        for (String r : references) {
            try {
                out.println(names.resolve(r));
            } catch (InvalidReferenceException e) {
                err.println("error: " + e.getMessage());
                status = 1;
            }
        }
        out.flush();
        err.flush();
        return status;
    }
}
