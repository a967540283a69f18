// Package helm tests the dirgate Helm chart in dirgate/: rendered with
// Helm's own library and checked by Helm's linter, every object decoded
// strictly into its Kubernetes type (a misspelt field fails), and the
// Deployment's container run as Kubernetes would run it — the binary
// built as the Dockerfile builds it, the args, the environment from the
// Secret, the mounted certificate — against a private PostgreSQL, until
// its readiness probe passes.
//
// It is a module of its own so that the main module does not carry Helm's
// and Kubernetes' dependencies.
package helm

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"debug/elf"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/dirgate/dirgate/internal/ldapserver"
	"github.com/dirgate/dirgate/internal/pgtest"
)

const chartDir = "dirgate"

// required are the least values the chart renders with.
func required() map[string]any {
	return map[string]any{
		"store":     map[string]any{"url": "postgres://dirgate:pw@db.example:5432/dirgate?sslmode=verify-full"},
		"secretKey": map[string]any{"value": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))},
		"tls":       map[string]any{"existingSecret": "dirgate-tls"},
	}
}

// objects is a rendered release: each object's YAML by "Kind/name", and
// the NOTES.
type objects struct {
	byKey map[string]string
	notes string
}

func (o objects) keys() []string {
	var k []string
	for key := range o.byKey {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

// decode strictly decodes the object key into v: a field Kubernetes does
// not know fails the test.
func (o objects) decode(t *testing.T, key string, v any) {
	t.Helper()
	y, ok := o.byKey[key]
	if !ok {
		t.Fatalf("no %s among %v", key, o.keys())
	}
	if err := yaml.UnmarshalStrict([]byte(y), v); err != nil {
		t.Fatalf("%s does not decode strictly: %v\n%s", key, err, y)
	}
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// render renders the chart as `helm install r --namespace ns` would.
func render(t *testing.T, values map[string]any) (objects, error) {
	t.Helper()
	ch := loadChart(t)
	vals, err := chartutil.ToRenderValues(ch, values,
		chartutil.ReleaseOptions{Name: "r", Namespace: "ns", IsInstall: true, Revision: 1}, chartutil.DefaultCapabilities)
	if err != nil {
		return objects{}, err
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return objects{}, err
	}
	o := objects{byKey: map[string]string{}}
	for name, content := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			o.notes = content
			continue
		}
		for _, doc := range strings.Split(content, "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var meta struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("%s is not YAML: %v\n%s", name, err, doc)
			}
			if meta.Kind == "" || meta.Metadata.Name == "" {
				t.Fatalf("%s: an object without kind or name:\n%s", name, doc)
			}
			key := meta.Kind + "/" + meta.Metadata.Name
			if _, dup := o.byKey[key]; dup {
				t.Fatalf("%s rendered twice", key)
			}
			o.byKey[key] = doc
		}
	}
	return o, nil
}

func mustRender(t *testing.T, values map[string]any) objects {
	t.Helper()
	o, err := render(t, values)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// set returns a copy of v with path (dot-separated) set to x.
func set(v map[string]any, path string, x any) map[string]any {
	out := deepCopy(v)
	m := out
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = x
	return out
}

func deepCopy(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if m, ok := x.(map[string]any); ok {
			x = deepCopy(m)
		}
		out[k] = x
	}
	return out
}

// TestLint: Helm's linter (what `helm lint` runs) finds nothing to warn of.
func TestLint(t *testing.T) {
	res := lint.AllWithKubeVersion(chartDir, required(), "ns", nil)
	for _, m := range res.Messages {
		// Info is advice (an icon for a chart repository's page).
		if m.Severity > support.InfoSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

// TestDefaults: the objects rendered from the required values and what a
// careful operator expects of each.
func TestDefaults(t *testing.T) {
	o := mustRender(t, required())
	want := []string{"Deployment/r-dirgate", "PodDisruptionBudget/r-dirgate", "Secret/r-dirgate", "Service/r-dirgate", "ServiceAccount/r-dirgate"}
	if got := o.keys(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("objects %v, want %v", got, want)
	}

	var d appsv1.Deployment
	o.decode(t, "Deployment/r-dirgate", &d)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Spec.Replicas)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if ru == nil || ru.MaxUnavailable.String() != "0" || ru.MaxSurge.String() != "1" {
		t.Errorf("rolling update %+v, want maxUnavailable 0, maxSurge 1", ru)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "ghcr.io/dirgate/dirgate:0.1.0" {
		t.Errorf("image %q, want the chart's appVersion", c.Image)
	}
	for _, a := range []string{"serve", "--no-demo", "--ldaps=:1636", "--ldap=:1389", "--http=:8443",
		"--tls-cert=/etc/dirgate/tls/tls.crt", "--tls-key=/etc/dirgate/tls/tls.key", "--data=/var/lib/dirgate"} {
		if !contains(c.Args, a) {
			t.Errorf("args %q lack %q", c.Args, a)
		}
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	for name, key := range map[string]string{"DIRGATE_STORE": "store-url", "DIRGATE_SECRET_KEY": "secret-key"} {
		e, ok := env[name]
		if !ok || e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s is not taken from a Secret: %+v", name, e)
			continue
		}
		if r := e.ValueFrom.SecretKeyRef; r.Name != "r-dirgate" || r.Key != key {
			t.Errorf("%s from %s/%s, want r-dirgate/%s", name, r.Name, r.Key, key)
		}
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if fmt.Sprint(ports) != "map[https:8443 ldap:1389 ldaps:1636]" {
		t.Errorf("container ports %v", ports)
	}
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		want := "/healthz"
		if name == "readiness" {
			want = "/readyz"
		}
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no %s probe over HTTP", name)
			continue
		}
		if g := p.HTTPGet; g.Path != want || g.Port.String() != "https" || g.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("%s probe %s %s %s, want %s on https over HTTPS", name, g.Scheme, g.Port.String(), g.Path, want)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want CPU and memory requests and a memory limit", c.Resources)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || fmt.Sprint(sc.Capabilities.Drop) != "[ALL]" {
		t.Errorf("container security context %+v", sc)
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("pod security context %+v: want runAsNonRoot", psc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pods mount a service account token they do not need")
	}
	if pod.ServiceAccountName != "r-dirgate" {
		t.Errorf("service account %q", pod.ServiceAccountName)
	}
	if a := pod.Affinity; a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Errorf("affinity %+v: want the nodes spread over hosts", a)
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	if m := mounts["tls"]; m.MountPath != "/etc/dirgate/tls" || !m.ReadOnly {
		t.Errorf("tls mount %+v", m)
	}
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	if v := vols["tls"]; v.Secret == nil || v.Secret.SecretName != "dirgate-tls" {
		t.Errorf("tls volume %+v, want the existing Secret dirgate-tls", v)
	}
	if d.Spec.Template.Annotations["checksum/secret"] == "" {
		t.Error("no checksum/secret annotation: pods would not roll when the Secret changes")
	}

	var svc corev1.Service
	o.decode(t, "Service/r-dirgate", &svc)
	sp := map[string]string{}
	for _, p := range svc.Spec.Ports {
		sp[p.Name] = fmt.Sprintf("%d->%s", p.Port, p.TargetPort.String())
	}
	if fmt.Sprint(sp) != "map[https:443->https ldap:389->ldap ldaps:636->ldaps]" {
		t.Errorf("service ports %v", sp)
	}
	if fmt.Sprint(svc.Spec.Selector) != fmt.Sprint(d.Spec.Selector.MatchLabels) {
		t.Errorf("service selects %v, the pods are %v", svc.Spec.Selector, d.Spec.Selector.MatchLabels)
	}

	var s corev1.Secret
	o.decode(t, "Secret/r-dirgate", &s)
	if string(s.Data["store-url"]) != "postgres://dirgate:pw@db.example:5432/dirgate?sslmode=verify-full" || len(s.Data["secret-key"]) == 0 {
		t.Errorf("secret data %q", s.Data)
	}

	var pdb policyv1.PodDisruptionBudget
	o.decode(t, "PodDisruptionBudget/r-dirgate", &pdb)
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.String() != "1" ||
		fmt.Sprint(pdb.Spec.Selector.MatchLabels) != fmt.Sprint(d.Spec.Selector.MatchLabels) {
		t.Errorf("pdb %+v", pdb.Spec)
	}

	var sa corev1.ServiceAccount
	o.decode(t, "ServiceAccount/r-dirgate", &sa)
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("service account automounts its token")
	}
	if !strings.Contains(o.notes, "ldaps://r-dirgate.ns.svc:636") || !strings.Contains(o.notes, "exec -i deploy/r-dirgate -- dirgate") {
		t.Errorf("NOTES:\n%s", o.notes)
	}
}

// TestValues: each documented switch does what values.yaml says.
func TestValues(t *testing.T) {
	t.Run("OneReplicaNoPDB", func(t *testing.T) {
		o := mustRender(t, set(required(), "replicaCount", 1))
		if _, ok := o.byKey["PodDisruptionBudget/r-dirgate"]; ok {
			t.Error("a PodDisruptionBudget with one replica blocks every drain")
		}
	})
	t.Run("ExistingSecrets", func(t *testing.T) {
		v := set(required(), "store", map[string]any{"existingSecret": "db", "existingSecretKey": "url"})
		v = set(v, "secretKey", map[string]any{"existingSecret": "keys", "existingSecretKey": "totp"})
		o := mustRender(t, v)
		if _, ok := o.byKey["Secret/r-dirgate"]; ok {
			t.Error("a Secret rendered although both are existing ones")
		}
		var d appsv1.Deployment
		o.decode(t, "Deployment/r-dirgate", &d)
		got := map[string]string{}
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				got[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
			}
		}
		if fmt.Sprint(got) != "map[DIRGATE_SECRET_KEY:keys/totp DIRGATE_STORE:db/url]" {
			t.Errorf("env from %v", got)
		}
	})
	t.Run("InlineCertificate", func(t *testing.T) {
		v := set(required(), "tls", map[string]any{"cert": "CERT", "key": "KEY"})
		o := mustRender(t, v)
		var s corev1.Secret
		o.decode(t, "Secret/r-dirgate-tls", &s)
		if s.Type != corev1.SecretTypeTLS || string(s.Data["tls.crt"]) != "CERT" || string(s.Data["tls.key"]) != "KEY" {
			t.Errorf("tls secret %+v", s)
		}
	})
	t.Run("CertManager", func(t *testing.T) {
		v := set(required(), "tls", map[string]any{"certManager": map[string]any{"enabled": true, "issuerRef": map[string]any{"name": "corp-ca"}}})
		o := mustRender(t, v)
		var cert struct {
			APIVersion string `json:"apiVersion"`
			Spec       struct {
				SecretName string   `json:"secretName"`
				DNSNames   []string `json:"dnsNames"`
				IssuerRef  struct {
					Name, Kind string
				} `json:"issuerRef"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(o.byKey["Certificate/r-dirgate"]), &cert); err != nil {
			t.Fatal(err)
		}
		if cert.APIVersion != "cert-manager.io/v1" || cert.Spec.SecretName != "r-dirgate-tls" || cert.Spec.IssuerRef.Name != "corp-ca" ||
			cert.Spec.IssuerRef.Kind != "ClusterIssuer" || !contains(cert.Spec.DNSNames, "r-dirgate.ns.svc") {
			t.Errorf("certificate %+v", cert)
		}
	})
	t.Run("NoStartTLS", func(t *testing.T) {
		o := mustRender(t, set(required(), "ldap.startTLS", false))
		var d appsv1.Deployment
		o.decode(t, "Deployment/r-dirgate", &d)
		c := d.Spec.Template.Spec.Containers[0]
		if !contains(c.Args, "--ldap=") || len(c.Ports) != 2 {
			t.Errorf("args %q, ports %+v: want ldap:// off", c.Args, c.Ports)
		}
		var svc corev1.Service
		o.decode(t, "Service/r-dirgate", &svc)
		if len(svc.Spec.Ports) != 2 {
			t.Errorf("service ports %+v", svc.Spec.Ports)
		}
	})
	t.Run("LoadBalancer", func(t *testing.T) {
		v := set(required(), "service", map[string]any{"type": "LoadBalancer", "loadBalancerSourceRanges": []any{"10.0.0.0/8"}})
		var svc corev1.Service
		mustRender(t, v).decode(t, "Service/r-dirgate", &svc)
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || fmt.Sprint(svc.Spec.LoadBalancerSourceRanges) != "[10.0.0.0/8]" {
			t.Errorf("service %+v", svc.Spec)
		}
	})
	t.Run("ExtraArgsAndEnv", func(t *testing.T) {
		v := set(required(), "extraArgs", []any{"--bind-cache-ttl=1m"})
		v = set(v, "extraEnv", []any{map[string]any{"name": "DIRGATE_API_RATE_LIMIT", "value": "600"}})
		v = set(v, "publicURL", "https://dirgate.example.com")
		var d appsv1.Deployment
		mustRender(t, v).decode(t, "Deployment/r-dirgate", &d)
		c := d.Spec.Template.Spec.Containers[0]
		if !contains(c.Args, "--bind-cache-ttl=1m") || !contains(c.Args, "--public-url=https://dirgate.example.com") {
			t.Errorf("args %q", c.Args)
		}
		if e := c.Env[len(c.Env)-1]; e.Name != "DIRGATE_API_RATE_LIMIT" || e.Value != "600" {
			t.Errorf("env %+v", c.Env)
		}
	})
}

// TestRefused: values the nodes cannot run with fail to render, naming
// the value to set.
func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"NoStore", set(required(), "store", map[string]any{}), "store.url or store.existingSecret is required"},
		{"NoSecretKey", set(required(), "secretKey", map[string]any{}), "secretKey.value or secretKey.existingSecret is required"},
		{"ShortSecretKey", set(required(), "secretKey.value", base64.StdEncoding.EncodeToString([]byte("short"))), "must be 32 bytes"},
		{"NoCertificate", set(required(), "tls", map[string]any{}), "give the server certificate exactly one way"},
		{"TwoCertificates", set(required(), "tls.cert", "C"), "give the server certificate exactly one way"},
		{"CertWithoutKey", set(set(required(), "tls.existingSecret", ""), "tls.cert", "C"), "tls.cert and tls.key go together"},
		{"CertManagerWithoutIssuer", set(set(required(), "tls.existingSecret", ""), "tls.certManager.enabled", true), "issuerRef.name is required"},
		{"NoReplicas", set(required(), "replicaCount", 0), "replicaCount must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestDockerfile: the Dockerfile builds a static binary on a distroless
// base, runs it as a non-root user, and sets the same arguments as the
// chart (so the image alone serves the same way).
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "FROM gcr.io/distroless/static", "USER 65532:65532", `ENTRYPOINT ["/usr/local/bin/dirgate"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	m := regexp.MustCompile(`(?m)^EXPOSE (.*)$`).FindStringSubmatch(df)
	if m == nil || m[1] != "1389 1636 8443" {
		t.Errorf("EXPOSE %q, want the chart's container ports 1389 1636 8443", m)
	}
}

// TestPodServes builds dirgate as the Dockerfile does, checks it is
// static, and runs the rendered Deployment's container the way the
// kubelet would — its args, its environment resolved from the rendered
// Secrets, the TLS Secret's files where the volume mounts them — against a
// private PostgreSQL reached over TCP with a password and TLS. Only the
// listen host changes (127.0.0.1 instead of every interface) and the
// mount paths (into a temporary directory). The readiness probe passes,
// the LDAPS listener presents the Secret's certificate, and after the
// NOTES' commands (same environment) their bind account reads their org.
func TestPodServes(t *testing.T) {
	bin := buildStatic(t)

	pg := pgtest.Start(t, pgtest.Options{HBA: []string{"hostssl dirgate dirgate 127.0.0.1/32 scram-sha-256"}})
	pg.SuperSQL(t, "CREATE ROLE dirgate LOGIN PASSWORD 'db-Pa55'")
	pg.SuperSQL(t, "CREATE DATABASE dirgate OWNER dirgate")
	storeURL := fmt.Sprintf("postgres://dirgate:db-Pa55@127.0.0.1:%d/dirgate?sslmode=require", pg.Port)

	certPEM, keyPEM, err := ldapserver.GenerateSelfSigned([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ldapPort, ldapsPort, httpsPort := pgtest.FreePort(t), pgtest.FreePort(t), pgtest.FreePort(t)
	v := set(required(), "store.url", storeURL)
	v = set(v, "tls", map[string]any{"cert": string(certPEM), "key": string(keyPEM)})
	v = set(v, "containerPorts", map[string]any{"ldap": ldapPort, "ldaps": ldapsPort, "https": httpsPort})
	o := mustRender(t, v)

	var d appsv1.Deployment
	o.decode(t, "Deployment/r-dirgate", &d)
	secrets := map[string]corev1.Secret{}
	for _, key := range o.keys() {
		if strings.HasPrefix(key, "Secret/") {
			var s corev1.Secret
			o.decode(t, key, &s)
			secrets[s.Name] = s
		}
	}
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]

	// The volumes, as the kubelet would mount them.
	root := t.TempDir()
	mountAt := map[string]string{}
	for _, m := range c.VolumeMounts {
		dir := filepath.Join(root, m.Name)
		mountAt[m.MountPath] = dir
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, vol := range pod.Volumes {
			if vol.Name != m.Name || vol.Secret == nil {
				continue
			}
			s, ok := secrets[vol.Secret.SecretName]
			if !ok {
				t.Fatalf("volume %s: the chart rendered no Secret %s", vol.Name, vol.Secret.SecretName)
			}
			for k, b := range s.Data {
				if err := os.WriteFile(filepath.Join(dir, k), b, 0o400); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	localPath := func(arg string) string {
		for mount, dir := range mountAt {
			arg = strings.ReplaceAll(arg, "="+mount, "="+dir)
		}
		return regexp.MustCompile(`^(--(?:ldap|ldaps|http)=):`).ReplaceAllString(arg, "${1}127.0.0.1:")
	}
	var args []string
	for _, a := range c.Args {
		args = append(args, localPath(a))
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + root}
	for _, e := range c.Env {
		val := e.Value
		if r := e.ValueFrom; r != nil {
			if r.SecretKeyRef == nil {
				t.Fatalf("env %s from something other than a Secret", e.Name)
			}
			s, ok := secrets[r.SecretKeyRef.Name]
			if !ok {
				t.Fatalf("env %s: no Secret %s rendered", e.Name, r.SecretKeyRef.Name)
			}
			b, ok := s.Data[r.SecretKeyRef.Key]
			if !ok {
				t.Fatalf("env %s: Secret %s has no key %s", e.Name, r.SecretKeyRef.Name, r.SecretKeyRef.Key)
			}
			val = string(b)
		}
		env = append(env, e.Name+"="+val)
	}

	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("dirgate serve %q:\n%s", args, out)
		}
	})

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	tlsConf := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	portOf := func(name string) int32 {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort
			}
		}
		t.Fatalf("no container port %s", name)
		return 0
	}
	probe := func(p *corev1.Probe) error {
		g := p.HTTPGet
		if g.Scheme != corev1.URISchemeHTTPS {
			return fmt.Errorf("probe scheme %s", g.Scheme)
		}
		// The kubelet does not verify the certificate; this client does.
		client := &http.Client{Timeout: time.Duration(p.TimeoutSeconds) * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConf}}
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d%s", portOf(g.Port.String()), g.Path))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("%s: %d %s", g.Path, resp.StatusCode, body)
		}
		return nil
	}
	deadline := time.Now().Add(time.Duration(c.StartupProbe.FailureThreshold*c.StartupProbe.PeriodSeconds) * time.Second)
	for {
		err := probe(c.StartupProbe)
		if err == nil {
			err = probe(c.ReadinessProbe)
		}
		if err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("dirgate serve exited (%v) before it was ready", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within the startup probe's %v: %v", time.Until(deadline), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := probe(c.LivenessProbe); err != nil {
		t.Fatalf("liveness: %v", err)
	}

	// LDAPS and StartTLS present the Secret's certificate.
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", portOf("ldaps")), tlsConf)
	if err != nil {
		t.Fatalf("LDAPS with the Secret's certificate: %v", err)
	}
	conn.Close()
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", portOf("ldap"))); err != nil {
		t.Errorf("ldap:// (StartTLS) port: %v", err)
	} else {
		c.Close()
	}

	// The NOTES' commands, verbatim but for the mount path, as `kubectl
	// exec` runs them in the container's environment; "< FILE" is stdin.
	var notesRun int
	for _, line := range strings.Split(o.notes, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "$DG ") {
			continue
		}
		words := strings.Fields(strings.TrimPrefix(line, "$DG "))
		stdin := ""
		if n := len(words); n > 2 && words[n-2] == "<" {
			stdin = "Pw-" + words[n-1] + "-9x\n"
			words = words[:n-2]
		}
		for i, w := range words {
			words[i] = localPath("=" + w)[1:]
		}
		notesRun++
		run := exec.Command(bin, words...)
		run.Env, run.Stdin = env, strings.NewReader(stdin)
		if b, err := run.CombinedOutput(); err != nil {
			t.Fatalf("NOTES: dirgate %q: %v\n%s", words, err, b)
		}
	}
	if notesRun != 3 {
		t.Fatalf("ran %d NOTES commands, want init and the two accounts:\n%s", notesRun, o.notes)
	}
	// The running node sees them: the bind account binds over LDAPS and
	// reads the org.
	ldapsearch, err := exec.LookPath("ldapsearch")
	if err != nil {
		t.Fatal("ldapsearch not found (apt-get install ldap-utils)")
	}
	caFile := filepath.Join(root, "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	var last string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		q := exec.Command(ldapsearch, "-x", "-LLL", "-H", fmt.Sprintf("ldaps://127.0.0.1:%d", portOf("ldaps")),
			"-D", "uid=ldap-bind,ou=users,dc=example,dc=okta,dc=com", "-w", "Pw-bind-password.txt-9x",
			"-b", "ou=users,dc=example,dc=okta,dc=com", "(uid=admin)", "uid")
		q.Env = []string{"LDAPTLS_CACERT=" + caFile, "LDAPTLS_REQCERT=demand", "HOME=" + root}
		b, _ := q.CombinedOutput()
		last = string(b)
		if strings.Contains(last, "dn: uid=admin,ou=users,dc=example,dc=okta,dc=com") {
			return
		}
	}
	t.Fatalf("the node did not serve the NOTES' org and accounts:\n%s", last)
}

// buildStatic builds cmd/dirgate the way the Dockerfile does and checks
// that the binary needs no dynamic loader (distroless/static has none).
func buildStatic(t *testing.T) string {
	t.Helper()
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .* -o /out/dirgate \./cmd/dirgate)$`).FindSubmatch(df)
	if m == nil {
		t.Fatal("the Dockerfile's `RUN CGO_ENABLED=0 go build … -o /out/dirgate ./cmd/dirgate` line is gone")
	}
	bin := filepath.Join(t.TempDir(), "dirgate")
	line := strings.Replace(string(m[1]), "-o /out/dirgate", "-o \"$BIN\"", 1)
	cmd := exec.Command("sh", "-c", line) // as RUN does, in the build context
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "BIN="+bin, "VERSION=0.1.0-chart-test")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, b)
	}
	if b, err := exec.Command(bin, "version").CombinedOutput(); err != nil || !strings.Contains(string(b), "0.1.0-chart-test") {
		t.Fatalf("dirgate version: %v %s (want the Dockerfile's VERSION)", err, b)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary asks for a dynamic loader: not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary links %v", libs)
	}
	return bin
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// syncBuffer is a bytes.Buffer safe for the process's two writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestValuesDocumented: every value in values.yaml is in the README's
// table (a group such as resources or probes.liveness counts once).
func TestValuesDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	whole := map[string]bool{"resources": true, "podSecurityContext": true, "securityContext": true,
		"tls.certManager.issuerRef": true, "probes.liveness": true, "probes.readiness": true, "probes.startup": true}
	var walk func(prefix string, m map[string]any)
	n := 0
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := prefix + k
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 && !whole[key] {
				walk(key+".", sub)
				continue
			}
			n++
			// A row may name siblings together: `a.b`, `.c`.
			short := key[strings.LastIndex(key, ".")+1:]
			if !bytes.Contains(readme, []byte("`"+key+"`")) && !bytes.Contains(readme, []byte("`"+key+"`,")) &&
				!(strings.Contains(key, ".") && bytes.Contains(readme, []byte("`."+short+"`"))) &&
				!bytes.Contains(readme, []byte(", `"+key+"`")) {
				t.Errorf("value %s is not in deploy/helm/dirgate/README.md", key)
			}
		}
	}
	walk("", loadChart(t).Values)
	if n < 40 {
		t.Fatalf("only %d values walked", n)
	}
}
