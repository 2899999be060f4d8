import io.imagemirror.oci.Sha256State;
import java.security.MessageDigest;
import java.util.Random;

/**
 * The hash of a resumable copy (issue 16): {@code Sha256State} over MIB MiB in parts of PART_MIB
 * MiB, its state saved after every part as {@code ResumableCopies} saves it, ROUNDS times in one
 * JVM (the first round pays the JIT's warm-up, as a worker's first copy does); then the JDK's
 * {@code MessageDigest} over the same bytes for reference. Which SHA-256 {@code Sha256State} uses
 * depends on the JVM's flags (bench/hash-state.sh runs both). Prints one line per round.
 *
 *   java -cp functions/aws/target/image-mirror-aws.jar:CLASSES HashStateBench MIB PART_MIB ROUNDS
 */
public final class HashStateBench {
    public static void main(String[] args) throws Exception {
        int mib = Integer.parseInt(args[0]);
        int partMib = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        byte[] part = new byte[partMib << 20];
        new Random(16).nextBytes(part);
        int parts = mib / partMib;
        System.out.println("implementation: " + Sha256State.implementation());
        for (int r = 1; r <= rounds; r++) {
            long t0 = System.nanoTime();
            Sha256State hash = Sha256State.start();
            long savedBytes = 0;
            for (int p = 0; p < parts; p++) {
                hash.update(part, 0, part.length);
                savedBytes += Sha256State.restore(hash.saved()).saved().length;
            }
            String digest = hash.finish().toString();
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("state round %d: %.3f s, %.0f MiB/s (%s, %d state bytes)%n", r, s, mib / s,
                    digest.substring(0, 19), savedBytes);
        }
        for (int r = 1; r <= rounds; r++) {
            long t0 = System.nanoTime();
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (int p = 0; p < parts; p++) {
                md.update(part, 0, part.length);
            }
            md.digest();
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("messagedigest round %d: %.3f s, %.0f MiB/s%n", r, s, mib / s);
        }
    }
}
