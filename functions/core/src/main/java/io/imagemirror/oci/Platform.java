package io.imagemirror.oci;

import java.util.Locale;
import java.util.Objects;

/**
 * The platform an image runs on: {@code os/architecture[/variant]}, normalized the way container
 * runtimes normalize it ({@code x86_64} is {@code amd64}, {@code aarch64} is {@code arm64}, an
 * {@code arm64} without variant is {@code arm64/v8}, {@code armhf} is {@code arm/v7}). Immutable;
 * equality is on the normalized form. {@code os.version} is kept for Windows images but does not
 * take part in matching.
 */
public final class Platform {

    /** The platform attestation manifests in an index carry: never a runnable platform. */
    public static final Platform UNKNOWN = new Platform("unknown", "unknown", "", "");

    private final String os;
    private final String architecture;
    private final String variant;
    private final String osVersion;

    private Platform(String os, String architecture, String variant, String osVersion) {
        this.os = os;
        this.architecture = architecture;
        this.variant = variant;
        this.osVersion = osVersion;
    }

    /** A normalized platform from its parts; {@code variant} and {@code osVersion} may be null. */
    public static Platform of(String os, String architecture, String variant, String osVersion) {
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(architecture, "architecture");
        String o = os.trim().toLowerCase(Locale.ROOT);
        String a = architecture.trim().toLowerCase(Locale.ROOT);
        String v = variant == null ? "" : variant.trim().toLowerCase(Locale.ROOT);
        if (o.isEmpty() || a.isEmpty()) {
            throw new IllegalArgumentException("platform needs an os and an architecture");
        }
        if (o.equals("macos")) {
            o = "darwin";
        }
        switch (a) {
            case "x86_64", "x86-64", "amd64" -> {
                a = "amd64";
                if (v.equals("v1")) {
                    v = "";
                }
            }
            case "aarch64", "arm64" -> {
                a = "arm64";
                if (v.isEmpty() || v.equals("8") || v.equals("v8.0")) {
                    v = "v8";
                }
            }
            case "armhf" -> {
                a = "arm";
                v = "v7";
            }
            case "armel" -> {
                a = "arm";
                v = "v6";
            }
            case "arm" -> {
                if (v.isEmpty() || v.equals("7")) {
                    v = "v7";
                } else if (v.matches("[5-8]")) {
                    v = "v" + v;
                }
            }
            case "i386", "i686", "x86" -> a = "386";
            default -> {
                // other architectures are taken as written
            }
        }
        return new Platform(o, a, v, osVersion == null ? "" : osVersion);
    }

    public static Platform of(String os, String architecture) {
        return of(os, architecture, null, null);
    }

    /**
     * Parses {@code os/arch[/variant]} as given to {@code --platform}.
     *
     * @throws IllegalArgumentException naming the problem
     */
    public static Platform parse(String spec) {
        Objects.requireNonNull(spec, "platform");
        String[] parts = spec.trim().split("/", -1);
        if (parts.length < 2 || parts.length > 3) {
            throw new IllegalArgumentException("invalid platform \"" + spec + "\": expected os/arch[/variant]");
        }
        for (String p : parts) {
            if (p.isEmpty() || !p.matches("[A-Za-z0-9_.-]+")) {
                throw new IllegalArgumentException("invalid platform \"" + spec + "\": empty or invalid component");
            }
        }
        return of(parts[0], parts[1], parts.length == 3 ? parts[2] : null, null);
    }

    public String os() {
        return os;
    }

    public String architecture() {
        return architecture;
    }

    /** The normalized variant, or the empty string. */
    public String variant() {
        return variant;
    }

    /** The {@code os.version}, or the empty string. */
    public String osVersion() {
        return osVersion;
    }

    /** Whether this is the {@code unknown/unknown} of attestation manifests. */
    public boolean isUnknown() {
        return os.equals("unknown") && architecture.equals("unknown");
    }

    /**
     * Whether an image built for {@code candidate} satisfies a request for this platform, as a
     * runtime's platform matcher decides: same os and architecture; a request without a variant
     * takes any variant, a request with one needs that variant. Unknown platforms match nothing.
     */
    public boolean matches(Platform candidate) {
        if (candidate.isUnknown() || isUnknown()) {
            return false;
        }
        if (!os.equals(candidate.os) || !architecture.equals(candidate.architecture)) {
            return false;
        }
        return variant.isEmpty() || variant.equals(candidate.variant);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Platform p && p.os.equals(os) && p.architecture.equals(architecture)
                && p.variant.equals(variant) && p.osVersion.equals(osVersion);
    }

    @Override
    public int hashCode() {
        return Objects.hash(os, architecture, variant, osVersion);
    }

    /** {@code os/arch[/variant]}. */
    @Override
    public String toString() {
        return variant.isEmpty() ? os + "/" + architecture : os + "/" + architecture + "/" + variant;
    }
}
