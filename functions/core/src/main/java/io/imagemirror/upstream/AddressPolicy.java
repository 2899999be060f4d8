package io.imagemirror.upstream;

import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import okhttp3.Dns;
import okhttp3.HttpUrl;

/**
 * Decides which hosts a redirect may send the client to. Public addresses are fine; loopback,
 * link-local (cloud metadata lives at 169.254.169.254), private, unspecified and multicast ones are
 * refused — except the kinds the upstream's own endpoint resolves to, so an upstream configured at
 * 127.0.0.1 may redirect to another loopback port but still not to 10.0.0.1. Plain HTTP targets
 * are refused unless the upstream is insecure. Also guards DNS so that a redirect host cannot
 * re-resolve to a refused address between the check and the connection.
 */
final class AddressPolicy {

    /** The kinds of address a host can resolve to. */
    enum Kind { PUBLIC, LOOPBACK, LINK_LOCAL, PRIVATE, UNSPECIFIED, MULTICAST }

    private final Upstream upstream;
    private final Dns dns;
    private volatile Set<Kind> upstreamKinds;

    AddressPolicy(Upstream upstream, Dns dns) {
        this.upstream = upstream;
        this.dns = dns;
    }

    static Kind classify(InetAddress a) {
        if (a.isAnyLocalAddress()) {
            return Kind.UNSPECIFIED;
        }
        if (a.isLoopbackAddress()) {
            return Kind.LOOPBACK;
        }
        if (a.isLinkLocalAddress()) {
            return Kind.LINK_LOCAL;
        }
        if (a.isMulticastAddress()) {
            return Kind.MULTICAST;
        }
        byte[] b = a.getAddress();
        if (a.isSiteLocalAddress()) {
            return Kind.PRIVATE;
        }
        if (a instanceof Inet4Address) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            if (first == 0) {
                return Kind.UNSPECIFIED;
            }
            if (first == 100 && second >= 64 && second < 128) {
                return Kind.PRIVATE; // carrier-grade NAT, 100.64.0.0/10
            }
        } else if (a instanceof Inet6Address && (b[0] & 0xfe) == 0xfc) {
            return Kind.PRIVATE; // unique local, fc00::/7
        }
        return Kind.PUBLIC;
    }

    /** Whether {@code a} may be connected to after a redirect. */
    boolean permits(InetAddress a) throws UnknownHostException {
        Kind k = classify(a);
        return k == Kind.PUBLIC || upstreamKinds().contains(k) && k != Kind.MULTICAST;
    }

    private Set<Kind> upstreamKinds() throws UnknownHostException {
        Set<Kind> kinds = upstreamKinds;
        if (kinds == null) {
            kinds = EnumSet.noneOf(Kind.class);
            for (InetAddress a : resolve(upstream.endpoint().getHost())) {
                kinds.add(classify(a));
            }
            upstreamKinds = kinds;
        }
        return kinds;
    }

    /**
     * Refuses a redirect from {@code from} to {@code target} that leaves HTTPS (unless insecure)
     * or reaches a refused address.
     */
    void checkRedirect(HttpUrl from, HttpUrl target) throws RegistryException, UnknownHostException {
        if (!target.isHttps() && !upstream.insecure()) {
            throw RegistryException.refused(upstream.name() + ": refusing redirect from " + from.encodedPath()
                    + " to plain-HTTP host " + target.host(), ErrorCode.DENIED);
        }
        for (InetAddress a : resolve(target.host())) {
            if (!permits(a)) {
                throw RegistryException.refused(upstream.name() + ": refusing redirect from " + from.encodedPath()
                        + " to " + target.host() + " (" + classify(a).name().toLowerCase(Locale.ROOT).replace('_', '-')
                        + " address " + a.getHostAddress() + ")", ErrorCode.DENIED);
            }
        }
    }

    private List<InetAddress> resolve(String host) throws UnknownHostException {
        if (isIpLiteral(host)) {
            return List.of(InetAddress.getByName(host)); // a literal: no DNS lookup happens
        }
        return dns.lookup(host);
    }

    static boolean isIpLiteral(String host) {
        return host.indexOf(':') >= 0 || host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    }

    /**
     * A {@link Dns} that answers the upstream's own and auth hosts as {@code delegate} does, and
     * drops refused addresses for every other host (redirect targets).
     */
    Dns guard(Dns delegate) {
        return hostname -> {
            List<InetAddress> all = delegate.lookup(hostname);
            String h = hostname.toLowerCase(Locale.ROOT);
            if (h.equals(upstream.endpoint().getHost().toLowerCase(Locale.ROOT)) || upstream.authHosts().contains(h)
                    || upstream.authHosts().stream().anyMatch(a -> a.startsWith(h + ":"))) {
                return all;
            }
            List<InetAddress> allowed = new ArrayList<>();
            for (InetAddress a : all) {
                if (permits(a)) {
                    allowed.add(a);
                }
            }
            if (allowed.isEmpty()) {
                throw new UnknownHostException(hostname + " resolves only to addresses redirects may not reach");
            }
            return allowed;
        };
    }
}
