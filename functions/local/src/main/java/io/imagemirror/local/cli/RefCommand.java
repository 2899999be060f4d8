package io.imagemirror.local.cli;

import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.InvalidReferenceException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code image-mirror ref REF...}: prints each reference in its canonical, fully qualified form. */
@Command(name = "ref",
        description = {"Print each image reference in canonical form (registry/repository:tag[@digest]).",
            "Invalid references are reported on stderr; the exit status is then 1."})
final class RefCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "REF", description = "image references, e.g. alpine or ghcr.io/org/app:1.0")
    List<String> references;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int status = 0;
        for (String r : references) {
            try {
                out.println(ImageReference.parse(r).canonical());
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
