package launcher

// tokenIntoConfig is the renewal's first step (shell, run as root): the
// token on its stdin (one line) becomes gateway.auth.token in the
// gateway's configuration $conf, replaced atomically and owned as before.
// The running gateway applies it by hot reload, which under emulation takes
// seconds, so nothing comes before it: Perl (perl-base is Essential on
// Debian and Ubuntu) starts in ~0.1 s in a guest just restored, Python in
// ~1.3 s. tokenPerl edits only the string literal at that path and keeps
// every other byte; a configuration without one (a token from the
// environment, a secret reference) exits 3, and then tokenPython sets it
// in the parsed configuration, as the renewal always did. Python (which
// cloud-init needs) also does it all in an image without Perl.
const tokenIntoConfig = `rc=3
if command -v perl >/dev/null; then
  printf '%s\n' "$token" | perl -e '` + tokenPerl + `' "$conf" && rc=0 || rc=$?
fi
if [ "$rc" -eq 3 ]; then printf '%s\n' "$token" | python3 -c '` + tokenPython + `' "$conf"
elif [ "$rc" -ne 0 ]; then exit "$rc"; fi`

// tokenPerl scans the JSON text for the string value at gateway.auth.token
// (a path of object keys from the top-level object, arrays break it) and
// replaces that literal. The temporary file is created new (O_EXCL), never
// through a link the openclaw user could have left there.
const tokenPerl = `use strict; use warnings; use Fcntl;
my $conf = shift; my $tok = <STDIN>; defined $tok or die "no token on stdin\n"; chomp $tok;
open(my $in, "<", $conf) or die "read $conf: $!\n";
my $s = do { local $/; <$in> }; close $in;
my (@path, $key, @at); my $want = join("\0", "", "gateway", "auth", "token");
pos($s) = 0;
while (1) {
  $s =~ /\G\s*/gc; last if pos($s) >= length $s;
  if ($s =~ /\G"((?:[^"\\]++|\\.)*+)"/gc) {
    my ($from, $to, $str) = ($-[0], $+[0], $1);
    if ($s =~ /\G\s*:/gc) { $key = $str; next }
    push @at, [$from, $to] if defined $key && join("\0", @path, $key) eq $want;
    undef $key;
  } elsif ($s =~ /\G[{\[]/gc) { push @path, $key // ""; undef $key }
  elsif ($s =~ /\G[}\]]/gc) { pop @path; undef $key }
  elsif ($s =~ /\G(?:,|true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)/gc) { undef $key }
  else { die "$conf: not JSON at byte " . pos($s) . "\n" }
}
exit 3 unless @at;
(my $j = $tok) =~ s/(["\\])/\\$1/g; $j =~ s/([\x00-\x1f])/sprintf("\\u%04x", ord $1)/ge;
substr($s, $_->[0], $_->[1] - $_->[0]) = "\"$j\"" for reverse @at;
my @st = stat $conf or die "stat $conf: $!\n";
my $tmp = "$conf.clawimg"; unlink $tmp;
sysopen(my $out, $tmp, O_WRONLY | O_CREAT | O_EXCL, 0600) or die "create $tmp: $!\n";
print $out $s or die "write $tmp: $!\n"; close $out or die "write $tmp: $!\n";
chown $st[4], $st[5], $tmp or die "chown $tmp: $!\n";
rename $tmp, $conf or die "rename $tmp: $!\n";`

// tokenPython is tokenPerl's fallback: it parses the configuration and
// sets gateway.auth.token, creating the objects on the way.
const tokenPython = `import json, os, sys
token = sys.stdin.readline().strip()
path = sys.argv[1]
st = os.stat(path)
with open(path) as f:
    cfg = json.load(f)
cfg.setdefault("gateway", {}).setdefault("auth", {})["token"] = token
tmp = path + ".clawimg"
try:
    os.unlink(tmp)
except FileNotFoundError:
    pass
fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(cfg, f, indent=2)
    f.write("\n")
os.chown(tmp, st.st_uid, st.st_gid)
os.replace(tmp, path)`

// reseedRNG (shell, root) credits the entropy in $entropy (hex) to the
// kernel and reseeds its CRNG at once: every instance restored from one
// state starts with the same RNG state, and a plain write to /dev/urandom
// changes its output only at the next periodic reseed (kernels with the
// vmgenid driver reseed by themselves; Debian's cloud kernel has none).
// Perl for the same reason as the token, Python without it.
const reseedRNG = `if command -v perl >/dev/null; then printf '%s\n' "$entropy" | perl -e '
my $hex = <STDIN>; chomp $hex; my $d = pack("H*", $hex);
open(my $r, ">", "/dev/urandom") or die "open /dev/urandom: $!\n";
my $buf = pack("ii", 8 * length($d), length($d)) . $d;
ioctl($r, 0x40085203, $buf) or die "RNDADDENTROPY: $!\n";
ioctl($r, 0x5207, 0) or die "RNDRESEEDCRNG: $!\n";'
else printf '%s\n' "$entropy" | python3 -c '
import fcntl, struct, sys
data = bytes.fromhex(sys.stdin.readline().strip())
with open("/dev/urandom", "wb") as f:
    try:
        fcntl.ioctl(f, 0x40085203, struct.pack("ii", 8 * len(data), len(data)) + data)
    except OSError as e:
        sys.exit("RNDADDENTROPY: %s" % e.strerror)
    fcntl.ioctl(f, 0x5207)  # RNDRESEEDCRNG
'
fi`
