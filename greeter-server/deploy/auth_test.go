package deploy_test

import (
	"bytes"
	encjson "encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The auth component (kubernetes/components/auth): greeter-server's bearer
// tokens and authorization policy, turned on for the base by an overlay.
const (
	// componentsDir holds the base's kustomize Components; each must be
	// one this file checks.
	componentsDir = "kubernetes/components"
	authDir       = componentsDir + "/auth"

	// authOverlayDir is the overlay that applies the base with the
	// component.
	authOverlayDir = "overlays/auth"

	// authExample is the example client in authDir, which the component
	// must not list: a Pod that every apply creates would be unwelcome.
	authExample = "client-pod.yaml"

	// The server's environment variables the component sets (each is
	// GREETER_SERVER_ and its flag's name, as cli.EnvPrefix says), and
	// SSL_CERT_FILE, which Go reads its CA certificates from.
	envIssuer   = "GREETER_SERVER_OIDC_ISSUER"
	envAudience = "GREETER_SERVER_OIDC_AUDIENCE"
	envPolicy   = "GREETER_SERVER_AUTHZ_POLICY"
	envCertFile = "SSL_CERT_FILE"

	// subjectHeader is the header through which the verified token's
	// subject reaches the policy (auth.SubjectHeader).
	subjectHeader = "x-jwt-subject"

	// clientNamespace is the namespace policy.yaml documents for the
	// example client's service account: where `kubectl apply -f` puts it
	// without -n on a fresh cluster.
	clientNamespace = "default"

	// The cluster CA: every namespace's ConfigMap kube-root-ca.crt (key
	// ca.crt), or the service-account volume's copy of it.
	rootCAConfigMap     = "kube-root-ca.crt"
	rootCAKey           = "ca.crt"
	serviceAccountCAPem = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"

	// minTokenExpiration is the shortest expirationSeconds kube-apiserver
	// accepts for a projected service-account token.
	minTokenExpiration = 600

	// The sources of greeter-client's flags (persistent ones, and hello's)
	// and of the API's services; tests that need them skip without them.
	clientRootSource  = "../../greeter-client/internal/cmd/root/root.go"
	clientHelloSource = "../../greeter-client/internal/cmd/hello/hello.go"
	protoDir          = "../../proto"
)

// authFlags maps each greeter-server flag the component sets to its
// variable.
var authFlags = map[string]string{
	"oidc-issuer":   envIssuer,
	"oidc-audience": envAudience,
	"authz-policy":  envPolicy,
}

// component holds the fields of the component's kustomization.yaml, decoded
// strictly like kustomization.
type component struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Patches    []struct {
		Path   string `json:"path"`
		Target *struct {
			Group   string `json:"group"`
			Version string `json:"version"`
			Kind    string `json:"kind"`
			Name    string `json:"name"`
		} `json:"target"`
	} `json:"patches"`
}

// overlay holds the fields of an overlay's kustomization.yaml.
type overlay struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Components []string `json:"components"`
}

// authManifests are the component's decoded files, the example client's,
// and the base they patch.
type authManifests struct {
	base      *manifests
	component component
	policy    *corev1.ConfigMap
	binding   *rbacv1.ClusterRoleBinding
	patch     *appsv1.Deployment
	clientSA  *corev1.ServiceAccount
	clientPod *corev1.Pod
	file      map[any]string // object -> file name in authDir, for messages
}

// decodeDoc decodes one YAML document strictly into the API type its
// apiVersion and kind name, among those allowed.
func decodeDoc(doc []byte, allowed map[string]func() any) (any, string, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, "", err
	}
	key := tm.APIVersion + " " + tm.Kind
	newObj, ok := allowed[key]
	if !ok {
		return nil, key, fmt.Errorf("apiVersion %q kind %q is not one this test knows here; add it and check it", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	if err := decodeStrict(doc, obj); err != nil {
		return nil, key, fmt.Errorf("not a valid %s: %w", key, err)
	}
	return obj, key, nil
}

// loadAuth reads the base, the component and its example, strictly.
func loadAuth(t *testing.T) *authManifests {
	t.Helper()
	a := &authManifests{base: load(t), file: map[any]string{}}
	data, err := os.ReadFile(filepath.Join(authDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeStrict(data, &a.component); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", authDir, err)
	}
	if a.component.APIVersion != "kustomize.config.k8s.io/v1alpha1" || a.component.Kind != "Component" {
		t.Fatalf("%s/kustomization.yaml: apiVersion %q, kind %q; want kustomize.config.k8s.io/v1alpha1, Component",
			authDir, a.component.APIVersion, a.component.Kind)
	}

	// readOne returns the single document of a file the component lists.
	readOne := func(name string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(authDir, name))
		if err != nil {
			t.Fatalf("%s/kustomization.yaml lists %s: %v", authDir, name, err)
		}
		docs, err := documents(data)
		if err != nil {
			t.Fatalf("%s/%s: %v", authDir, name, err)
		}
		if len(docs) != 1 {
			t.Fatalf("%s/%s holds %d documents; keep one resource per file", authDir, name, len(docs))
		}
		return docs[0]
	}

	if slices.Contains(a.component.Resources, authExample) {
		t.Fatalf("%s/kustomization.yaml lists %s; it is an example to `kubectl apply -f`, not a Pod for every apply of the component", authDir, authExample)
	}
	resources := map[string]func() any{
		"v1 ConfigMap": func() any { return &corev1.ConfigMap{} },
		"rbac.authorization.k8s.io/v1 ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
	}
	for _, name := range a.component.Resources {
		obj, key, err := decodeDoc(readOne(name), resources)
		if err != nil {
			t.Fatalf("%s/%s: %v", authDir, name, err)
		}
		var dup bool
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			dup, a.policy = a.policy != nil, o
		case *rbacv1.ClusterRoleBinding:
			dup, a.binding = a.binding != nil, o
		}
		if dup {
			t.Fatalf("%s/%s: a second %s; this test checks exactly one of each", authDir, name, key)
		}
		a.file[obj] = name
	}
	if a.policy == nil || a.binding == nil {
		t.Fatalf("%s/kustomization.yaml must list the policy ConfigMap and the issuer-discovery ClusterRoleBinding", authDir)
	}

	if len(a.component.Patches) != 1 {
		t.Fatalf("%s/kustomization.yaml has %d patches; this test expects one, of the Deployment", authDir, len(a.component.Patches))
	}
	p := a.component.Patches[0]
	if p.Path == "" {
		t.Fatalf("%s/kustomization.yaml: the patch has no path; keep it in a file, with its comments", authDir)
	}
	obj, _, err := decodeDoc(readOne(p.Path), map[string]func() any{
		"apps/v1 Deployment": func() any { return &appsv1.Deployment{} },
	})
	if err != nil {
		t.Fatalf("%s/%s: %v", authDir, p.Path, err)
	}
	a.patch = obj.(*appsv1.Deployment)
	a.file[a.patch] = p.Path
	d := a.base.deployment
	if p.Target != nil && (p.Target.Kind != "Deployment" || p.Target.Name != d.Name || (p.Target.Group != "" && p.Target.Group != "apps")) {
		t.Fatalf("%s/kustomization.yaml: the patch targets %s %q; want the base's Deployment %q", authDir, p.Target.Kind, p.Target.Name, d.Name)
	}
	if a.patch.Name != d.Name {
		t.Fatalf("%s: patches Deployment %q; the base's is %q", p.Path, a.patch.Name, d.Name)
	}
	cs := a.patch.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != a.base.container().Name {
		t.Fatalf("%s: want exactly one container, %q, the base's; a strategic merge patch merges containers by name", p.Path, a.base.container().Name)
	}

	data, err = os.ReadFile(filepath.Join(authDir, authExample))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := documents(data)
	if err != nil {
		t.Fatalf("%s/%s: %v", authDir, authExample, err)
	}
	example := map[string]func() any{
		"v1 ServiceAccount": func() any { return &corev1.ServiceAccount{} },
		"v1 Pod":            func() any { return &corev1.Pod{} },
	}
	for _, doc := range docs {
		obj, key, err := decodeDoc(doc, example)
		if err != nil {
			t.Fatalf("%s/%s: %v", authDir, authExample, err)
		}
		var dup bool
		switch o := obj.(type) {
		case *corev1.ServiceAccount:
			dup, a.clientSA = a.clientSA != nil, o
		case *corev1.Pod:
			dup, a.clientPod = a.clientPod != nil, o
		}
		if dup {
			t.Fatalf("%s/%s: a second %s", authDir, authExample, key)
		}
		a.file[obj] = authExample
	}
	if a.clientSA == nil || a.clientPod == nil {
		t.Fatalf("%s/%s must hold the client's ServiceAccount and Pod", authDir, authExample)
	}
	if n := len(a.clientPod.Spec.Containers); n != 1 {
		t.Fatalf("%s: %d containers; this test expects greeter-client alone", authExample, n)
	}
	return a
}

func (a *authManifests) patchContainer() *corev1.Container {
	return &a.patch.Spec.Template.Spec.Containers[0]
}

// env returns the value of a variable the patch sets.
func (a *authManifests) env(t *testing.T, name string) string {
	t.Helper()
	for _, e := range a.patchContainer().Env {
		if e.Name == name {
			return e.Value
		}
	}
	t.Fatalf("%s: %s is not set", a.file[a.patch], name)
	return ""
}

// clientSubject is the subject of the example client's tokens.
func (a *authManifests) clientSubject() string {
	return "system:serviceaccount:" + clientNamespace + ":" + a.clientSA.Name
}

// source is what a file in a container comes from.
type source struct {
	mount     *corev1.VolumeMount
	configMap string // the ConfigMap's name, or ""
	key       string // its key
	token     *corev1.ServiceAccountTokenProjection
}

// fileSource finds which volume, and which ConfigMap key or projected
// token within it, provides file in c.
func fileSource(spec *corev1.PodSpec, c *corev1.Container, file string) (source, error) {
	for i, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		src := source{mount: &c.VolumeMounts[i]}
		if m.SubPath != "" || m.SubPathExpr != "" {
			return src, fmt.Errorf("%s is in mount %s, which has a subPath", file, m.Name)
		}
		var vol *corev1.Volume
		for j := range spec.Volumes {
			if spec.Volumes[j].Name == m.Name {
				vol = &spec.Volumes[j]
			}
		}
		switch {
		case vol == nil:
			return src, fmt.Errorf("mount %s names no volume", m.Name)
		case vol.ConfigMap != nil:
			src.configMap = vol.ConfigMap.Name
			src.key, ok = configMapKey(vol.ConfigMap.Items, rel)
			if !ok {
				return src, fmt.Errorf("volume %s's items do not put a key at %s", vol.Name, rel)
			}
			return src, nil
		case vol.Projected != nil:
			for _, ps := range vol.Projected.Sources {
				switch {
				case ps.ServiceAccountToken != nil && ps.ServiceAccountToken.Path == rel:
					src.token = ps.ServiceAccountToken
					return src, nil
				case ps.ConfigMap != nil:
					if key, ok := configMapKey(ps.ConfigMap.Items, rel); ok {
						src.configMap, src.key = ps.ConfigMap.Name, key
						return src, nil
					}
				}
			}
			return src, fmt.Errorf("projected volume %s has no source at %s", vol.Name, rel)
		default:
			return src, fmt.Errorf("volume %s is neither a ConfigMap nor a projected volume", vol.Name)
		}
	}
	return source{}, fmt.Errorf("no volume is mounted where %s is", file)
}

// configMapKey returns the key a ConfigMap volume puts at rel: the item
// whose path is rel, or, without items, the key rel itself.
func configMapKey(items []corev1.KeyToPath, rel string) (string, bool) {
	if len(items) == 0 {
		return rel, !strings.Contains(rel, "/")
	}
	for _, it := range items {
		if it.Path == rel {
			return it.Key, true
		}
	}
	return "", false
}

// TestAuthComponentListsEveryFile checks that the component lists every
// file beside it but the example client and the README, and that
// kubernetes/components holds only components this file checks.
func TestAuthComponentListsEveryFile(t *testing.T) {
	a := loadAuth(t)
	listed := map[string]bool{}
	for _, r := range a.component.Resources {
		if listed[r] {
			t.Errorf("%s/kustomization.yaml lists %s twice", authDir, r)
		}
		listed[r] = true
	}
	for _, p := range a.component.Patches {
		listed[p.Path] = true
	}
	entries, err := os.ReadDir(authDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case e.IsDir():
			t.Errorf("%s/%s: a directory; keep the component flat", authDir, name)
		case name == "kustomization.yaml", name == "README.md", name == authExample:
		case !listed[name]:
			t.Errorf("%s/%s is neither a resource nor a patch of the component, so kustomize ignores it; list it or remove it", authDir, name)
		}
	}

	entries, err = os.ReadDir(componentsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(authDir) {
			t.Errorf("%s/%s is not a component this test checks; add checks for it", componentsDir, e.Name())
		}
	}
}

// authzPolicy is the gRPC authorization policy format, as greeter-server's
// auth.ParsePolicy reads it (which also rejects unknown fields).
type authzPolicy struct {
	Name       string      `json:"name"`
	DenyRules  []authzRule `json:"deny_rules"`
	AllowRules []authzRule `json:"allow_rules"`
}

type authzRule struct {
	Name   string `json:"name"`
	Source struct {
		Principals []string `json:"principals"`
	} `json:"source"`
	Request struct {
		Paths   []string `json:"paths"`
		Headers []struct {
			Key    string   `json:"key"`
			Values []string `json:"values"`
		} `json:"headers"`
	} `json:"request"`
}

// matchValue matches a policy value: exact, "prefix*", "*suffix", or "*"
// (any non-empty value).
func matchValue(pattern, v string) bool {
	switch {
	case pattern == "*":
		return v != ""
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(v, strings.TrimSuffix(pattern, "*"))
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(v, strings.TrimPrefix(pattern, "*"))
	}
	return v == pattern
}

// matches reports whether r matches a plaintext call of method by a caller
// whose token has subject ("" for none). A plaintext call has no
// principal, so a rule that names principals never matches it.
func (r *authzRule) matches(method, subject string) bool {
	if len(r.Source.Principals) > 0 {
		return false
	}
	if len(r.Request.Paths) > 0 && !slices.ContainsFunc(r.Request.Paths, func(p string) bool { return matchValue(p, method) }) {
		return false
	}
	for _, h := range r.Request.Headers {
		if !strings.EqualFold(h.Key, subjectHeader) || subject == "" {
			return false // the client sends no other header the policy could see
		}
		if !slices.ContainsFunc(h.Values, func(p string) bool { return matchValue(p, subject) }) {
			return false
		}
	}
	return true
}

// allows decides a call as greeter-server does: any matching deny rule
// refuses it, else any matching allow rule allows it, else it is refused.
func (p *authzPolicy) allows(method, subject string) bool {
	for i := range p.DenyRules {
		if p.DenyRules[i].matches(method, subject) {
			return false
		}
	}
	for i := range p.AllowRules {
		if p.AllowRules[i].matches(method, subject) {
			return true
		}
	}
	return false
}

// apiMethods returns the full method names (/package.Service/Method) of
// every RPC in the API's proto files.
func apiMethods(t *testing.T) []string {
	t.Helper()
	var methods []string
	err := filepath.WalkDir(protoDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".proto" {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		pkg := regexp.MustCompile(`(?m)^package\s+([\w.]+);`).FindSubmatch(src)
		if pkg == nil {
			return fmt.Errorf("%s: no package", p)
		}
		service := ""
		for _, line := range strings.Split(string(src), "\n") {
			if m := regexp.MustCompile(`^\s*service\s+(\w+)`).FindStringSubmatch(line); m != nil {
				service = m[1]
			}
			if m := regexp.MustCompile(`^\s*rpc\s+(\w+)\s*\(`).FindStringSubmatch(line); m != nil && service != "" {
				methods = append(methods, "/"+string(pkg[1])+"."+service+"/"+m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Skipf("cannot read the API's proto files: %v", err)
	}
	return methods
}

// TestAuthPolicy checks the policy in the ConfigMap: it parses, and it lets
// the example client call every method of the Greeter services and nothing
// else, and nobody else anything.
func TestAuthPolicy(t *testing.T) {
	a := loadAuth(t)
	file := a.file[a.policy]
	policyFile := path.Base(a.env(t, envPolicy))
	if len(a.policy.Data) != 1 || len(a.policy.BinaryData) != 0 {
		t.Errorf("%s: the ConfigMap must hold one key, %s, the policy", file, policyFile)
	}
	raw, ok := a.policy.Data[policyFile]
	if !ok {
		t.Fatalf("%s: no key %s, the file %s=%s names", file, policyFile, envPolicy, a.env(t, envPolicy))
	}
	var p authzPolicy
	dec := encjson.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %s is not a gRPC authorization policy: %v", file, policyFile, err)
	}
	if dec.More() {
		t.Fatalf("%s: %s holds more than one JSON value", file, policyFile)
	}
	if p.Name == "" {
		t.Errorf("%s: the policy has no name (the server refuses it)", file)
	}
	if len(p.AllowRules) == 0 {
		t.Errorf("%s: the policy has no allow_rules (the server refuses it)", file)
	}
	for i, r := range slices.Concat(p.DenyRules, p.AllowRules) {
		if r.Name == "" {
			t.Errorf("%s: rule %d has no name (the server refuses the policy)", file, i)
		}
		for _, h := range r.Request.Headers {
			if h.Key == "" || len(h.Values) == 0 {
				t.Errorf("%s: rule %q has a header without key or values (the server refuses the policy)", file, r.Name)
			}
			if !strings.EqualFold(h.Key, subjectHeader) {
				t.Errorf("%s: rule %q matches header %q; the caller's verified identity is %s, and other headers are the caller's to set", file, r.Name, h.Key, subjectHeader)
			}
		}
	}

	client := a.clientSubject()
	others := []string{
		"",
		"system:serviceaccount:" + clientNamespace + ":default",
		"system:serviceaccount:other:" + a.clientSA.Name,
		client + "-impostor",
	}
	methods := apiMethods(t)
	services := []string{
		"greeter.v1.GreeterService",
		"helloworld.Greeter", // trim:helloworld
	}
	var greeter []string
	for _, m := range methods {
		if slices.ContainsFunc(services, func(s string) bool { return strings.HasPrefix(m, "/"+s+"/") }) {
			greeter = append(greeter, m)
		}
	}
	if len(greeter) == 0 {
		t.Fatalf("found no methods of %s in %s", strings.Join(services, " or "), protoDir)
	}
	for _, m := range greeter {
		if !p.allows(m, client) {
			t.Errorf("%s: the policy refuses %s to %s, the example client (%s)", file, m, client, authExample)
		}
	}
	refused := slices.Concat(methods, []string{
		"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
		"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
		"/greeter.v2.GreeterService/SayHello",
	})
	for _, m := range refused {
		for _, s := range others {
			if p.allows(m, s) {
				t.Errorf("%s: the policy allows %s to subject %q; only %s may call anything", file, m, s, client)
			}
		}
		if !slices.Contains(greeter, m) && p.allows(m, client) {
			t.Errorf("%s: the policy allows %s to %s, which needs only the Greeter services", file, m, client)
		}
	}
}

// TestAuthDeploymentPatch checks the patch of the server's Deployment: the
// variables it sets are the server's, the policy file is in the ConfigMap's
// directory mount, and the CA file is the cluster's.
func TestAuthDeploymentPatch(t *testing.T) {
	a := loadAuth(t)
	file := a.file[a.patch]
	c := a.patchContainer()
	spec := &a.patch.Spec.Template.Spec

	// Exactly the variables the component is about, each a literal value.
	want := []string{envIssuer, envAudience, envPolicy, envCertFile}
	var got []string
	for _, e := range c.Env {
		if slices.Contains(got, e.Name) {
			t.Errorf("%s: %s is set twice", file, e.Name)
		}
		got = append(got, e.Name)
		if e.ValueFrom != nil || e.Value == "" {
			t.Errorf("%s: %s must have a literal, non-empty value", file, e.Name)
		}
	}
	if slices.Sort(got); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("%s: sets %v; want exactly %v", file, got, slices.Sorted(slices.Values(want)))
	}
	// Each GREETER_SERVER_ variable is its flag's, and the flag exists.
	for flag, env := range authFlags {
		if env != "GREETER_SERVER_"+strings.ToUpper(strings.ReplaceAll(flag, "-", "_")) {
			t.Errorf("this test's %s is not the variable of --%s", env, flag)
		}
	}
	if src, err := os.ReadFile(cliSource); err != nil {
		t.Logf("cannot read greeter-server's flags (%v); not checking that they exist", err)
	} else {
		for flag := range authFlags {
			if !regexp.MustCompile(`f\.\w+Var\(&[^,]+, "` + regexp.QuoteMeta(flag) + `"`).Match(src) {
				t.Errorf("%s defines no flag --%s, whose variable %s sets", cliSource, flag, file)
			}
		}
	}
	if len(c.Args) > 0 || len(c.Command) > 0 {
		t.Errorf("%s: sets the container's args or command, which would replace the base's whole list; use variables", file)
	}

	issuer, err := url.Parse(a.env(t, envIssuer))
	if err != nil || issuer.Scheme != "https" || issuer.Host == "" || issuer.RawQuery != "" || issuer.Fragment != "" {
		t.Errorf("%s: %s=%s is not an https:// issuer URL (the server takes http:// only on loopback)", file, envIssuer, a.env(t, envIssuer))
	}

	// The policy: a file in the directory where the ConfigMap is mounted
	// whole, read-only.
	policyPath := a.env(t, envPolicy)
	if !path.IsAbs(policyPath) {
		t.Fatalf("%s: %s=%s is not an absolute path", file, envPolicy, policyPath)
	}
	src, err := fileSource(spec, c, policyPath)
	if err != nil {
		t.Fatalf("%s: %s=%s: %v", file, envPolicy, policyPath, err)
	}
	if src.mount.MountPath != path.Dir(policyPath) {
		t.Errorf("%s: the policy's volume is mounted at %s, not %s, the directory of %s=%s", file, src.mount.MountPath, path.Dir(policyPath), envPolicy, policyPath)
	}
	if src.configMap != a.policy.Name {
		t.Errorf("%s: %s comes from ConfigMap %q, not %q (%s)", file, policyPath, src.configMap, a.policy.Name, a.file[a.policy])
	} else if _, ok := a.policy.Data[src.key]; !ok {
		t.Errorf("%s: %s is key %s of ConfigMap %s, which has no such key", file, policyPath, src.key, a.policy.Name)
	}

	// The CA certificates: the cluster's, from kube-root-ca.crt, so the
	// pods keep automountServiceAccountToken: false; or, if the patch
	// turns it on, the service-account volume's copy.
	certFile := a.env(t, envCertFile)
	automount := spec.AutomountServiceAccountToken
	switch certFile {
	case serviceAccountCAPem:
		if automount == nil || !*automount {
			t.Errorf("%s: %s=%s exists only with automountServiceAccountToken: true, which the base turns off", file, envCertFile, certFile)
		}
	default:
		if automount != nil && *automount {
			t.Errorf("%s: turns automountServiceAccountToken on, though %s does not come from the service-account volume: the server would hold an API token it never uses", file, envCertFile)
		}
		src, err := fileSource(spec, c, certFile)
		switch {
		case err != nil:
			t.Errorf("%s: %s=%s: %v", file, envCertFile, certFile, err)
		case src.configMap != rootCAConfigMap || src.key != rootCAKey:
			t.Errorf("%s: %s=%s comes from ConfigMap %q key %q; want the cluster CA, %q key %q", file, envCertFile, certFile, src.configMap, src.key, rootCAConfigMap, rootCAKey)
		}
	}

	// Mounts: read-only, each with its own volume, none shadowing another
	// or the base's.
	baseSpec := a.base.deployment.Spec.Template.Spec
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly {
			t.Errorf("%s: mount %s must be readOnly", file, m.Name)
		}
		for _, o := range slices.Concat(c.VolumeMounts, a.base.container().VolumeMounts) {
			if o != m && (o.MountPath == m.MountPath || strings.HasPrefix(o.MountPath, m.MountPath+"/")) {
				t.Errorf("%s: mount %s at %s overlaps mount %s at %s", file, m.Name, m.MountPath, o.Name, o.MountPath)
			}
		}
	}
	for _, v := range spec.Volumes {
		if slices.ContainsFunc(baseSpec.Volumes, func(b corev1.Volume) bool { return b.Name == v.Name }) {
			t.Errorf("%s: volume %s would merge into the base's volume of that name", file, v.Name)
		}
	}
}

// TestAuthIssuerDiscoveryBinding checks the ClusterRoleBinding that lets
// the server fetch the issuer's discovery document and keys without
// credentials.
func TestAuthIssuerDiscoveryBinding(t *testing.T) {
	a := loadAuth(t)
	b := a.binding
	file := a.file[b]
	wantRole := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:service-account-issuer-discovery"}
	if b.RoleRef != wantRole {
		t.Errorf("%s: roleRef is %+v; want %+v, the role kube-apiserver serves discovery to", file, b.RoleRef, wantRole)
	}
	wantSubjects := []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:unauthenticated"}}
	if !reflect.DeepEqual(b.Subjects, wantSubjects) {
		t.Errorf("%s: subjects are %+v; want only %+v: the server fetches discovery without credentials, and nobody needs more", file, b.Subjects, wantSubjects)
	}
}

// clientFlags returns greeter-client's flag names (persistent ones, and
// hello's), or nil if its sources are not in this tree.
func clientFlags(t *testing.T) map[string]bool {
	t.Helper()
	flags := map[string]bool{}
	for _, f := range []string{clientRootSource, clientHelloSource} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Logf("cannot read greeter-client's flags (%v); not checking that they exist", err)
			return nil
		}
		for _, m := range regexp.MustCompile(`\.\w+VarP?\(&[^,]+, "([a-z0-9-]+)"`).FindAllSubmatch(src, -1) {
			flags[string(m[1])] = true
		}
	}
	if len(flags) == 0 {
		t.Fatalf("found no flag definitions in %s or %s; update this test's pattern", clientRootSource, clientHelloSource)
	}
	return flags
}

// TestAuthClientExample checks the example client: its service account is
// the policy's subject, its projected token is for the server's audience
// and is where --token-file reads it, and it can reach the Service.
func TestAuthClientExample(t *testing.T) {
	a := loadAuth(t)
	pod, sa := a.clientPod, a.clientSA
	spec := &pod.Spec
	c := &spec.Containers[0]

	if pod.Namespace != "" || sa.Namespace != "" {
		t.Errorf("%s: names a namespace; leave it to `kubectl apply -n`, as the base does", authExample)
	}
	if spec.ServiceAccountName != sa.Name {
		t.Errorf("%s: the Pod runs as service account %q, not %q, the one the file creates", authExample, spec.ServiceAccountName, sa.Name)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken must be false: the client needs only its projected greeter-server token, not an API credential", authExample)
	}

	// --token-file is the projected token for the server's audience.
	tokenFile, ok := flagValue(c.Args, "token-file")
	if !ok {
		t.Fatalf("%s: the client has no --token-file", authExample)
	}
	src, err := fileSource(spec, c, tokenFile)
	switch {
	case err != nil:
		t.Errorf("%s: --token-file=%s: %v", authExample, tokenFile, err)
	case src.token == nil:
		t.Errorf("%s: --token-file=%s is not a projected service-account token", authExample, tokenFile)
	default:
		if aud := a.env(t, envAudience); src.token.Audience != aud {
			t.Errorf("%s: the token's audience is %q; the server accepts only %q (%s in %s)", authExample, src.token.Audience, aud, envAudience, a.file[a.patch])
		}
		if e := src.token.ExpirationSeconds; e == nil || *e < minTokenExpiration {
			t.Errorf("%s: the token's expirationSeconds must be set, and at least %d (kube-apiserver's minimum)", authExample, minTokenExpiration)
		}
		if !src.mount.ReadOnly {
			t.Errorf("%s: the token's mount must be readOnly", authExample)
		}
	}

	// The flags exist, the command is hello, and the token is allowed to
	// go in plaintext exactly when there is no TLS.
	if flags := clientFlags(t); flags != nil {
		for _, arg := range c.Args {
			if name, ok := strings.CutPrefix(arg, "--"); ok {
				if name, _, _ = strings.Cut(name, "="); !flags[name] {
					t.Errorf("%s: greeter-client has no flag --%s", authExample, name)
				}
			}
		}
	}
	if !slices.Contains(c.Args, "hello") {
		t.Errorf("%s: the client does not run hello", authExample)
	}
	tls := slices.ContainsFunc([]string{"tls", "ca", "cert", "key", "server-name"}, func(f string) bool {
		_, ok := flagValue(c.Args, f)
		return ok || slices.Contains(c.Args, "--"+f)
	})
	insecure := slices.Contains(c.Args, "--insecure-token") || slices.Contains(c.Args, "--insecure-token=true")
	switch {
	case !tls && !insecure:
		t.Errorf("%s: plaintext to the Service without --insecure-token: greeter-client refuses to send the token (exit 2)", authExample)
	case tls && insecure:
		t.Errorf("%s: --insecure-token with TLS; drop it", authExample)
	}

	// --addr is the Service's grpc port.
	addr, ok := flagValue(c.Args, "addr")
	if !ok {
		t.Fatalf("%s: the client has no --addr (its default is localhost)", authExample)
	}
	host, port, err := net.SplitHostPort(strings.TrimPrefix(addr, "dns:///"))
	svc := a.base.service
	var grpcPort int32
	for _, p := range svc.Spec.Ports {
		if p.Name == "grpc" {
			grpcPort = p.Port
		}
	}
	if err != nil || strings.Split(host, ".")[0] != svc.Name || port != fmt.Sprint(grpcPort) {
		t.Errorf("%s: --addr=%s is not the Service %s's grpc port %d", authExample, addr, svc.Name, grpcPort)
	}

	// Locked down as the server is.
	for _, check := range []struct {
		ok   bool
		what string
	}{
		{spec.SecurityContext != nil && spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot, "runAsNonRoot: true"},
		{c.SecurityContext != nil && c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem, "readOnlyRootFilesystem: true"},
		{c.SecurityContext != nil && c.SecurityContext.AllowPrivilegeEscalation != nil && !*c.SecurityContext.AllowPrivilegeEscalation, "allowPrivilegeEscalation: false"},
		{c.SecurityContext != nil && c.SecurityContext.Capabilities != nil && slices.Contains(c.SecurityContext.Capabilities.Drop, "ALL"), "capabilities: drop: [ALL]"},
	} {
		if !check.ok {
			t.Errorf("%s: want %s", authExample, check.what)
		}
	}
}

// TestAuthOverlay checks that the overlay names the base and the component.
func TestAuthOverlay(t *testing.T) {
	var o overlay
	data, err := os.ReadFile(filepath.Join(authOverlayDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeStrict(data, &o); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", authOverlayDir, err)
	}
	if o.APIVersion != "kustomize.config.k8s.io/v1beta1" || o.Kind != "Kustomization" {
		t.Errorf("%s/kustomization.yaml: apiVersion %q, kind %q; want kustomize.config.k8s.io/v1beta1, Kustomization", authOverlayDir, o.APIVersion, o.Kind)
	}
	resolve := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Join(authOverlayDir, p))
		}
		return out
	}
	if r := resolve(o.Resources); !slices.Equal(r, []string{manifestDir}) {
		t.Errorf("%s/kustomization.yaml: resources resolve to %v; want the base alone, %s", authOverlayDir, r, manifestDir)
	}
	if c := resolve(o.Components); !slices.Equal(c, []string{authDir}) {
		t.Errorf("%s/kustomization.yaml: components resolve to %v; want %s", authOverlayDir, c, authDir)
	}
}

// TestAuthOverlayBuilds renders the overlay with kustomize (or kubectl's
// built-in kustomize), if either is installed, decodes every resource
// strictly, and checks that the Deployment got the patch and kept the
// base's settings.
func TestAuthOverlayBuilds(t *testing.T) {
	var cmd *exec.Cmd
	if p, err := exec.LookPath("kustomize"); err == nil {
		cmd = exec.CommandContext(t.Context(), p, "build", authOverlayDir)
	} else if p, err := exec.LookPath("kubectl"); err == nil {
		cmd = exec.CommandContext(t.Context(), p, "kustomize", authOverlayDir)
	} else {
		t.Skip("neither kustomize nor kubectl is installed")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.Bytes())
	}
	docs, err := documents(out)
	if err != nil {
		t.Fatal(err)
	}
	a := loadAuth(t)
	known := map[string]func() any{
		"apps/v1 Deployment":                              func() any { return &appsv1.Deployment{} },
		"v1 Service":                                      func() any { return &corev1.Service{} },
		"policy/v1 PodDisruptionBudget":                   func() any { return &policyv1.PodDisruptionBudget{} },
		"autoscaling/v2 HorizontalPodAutoscaler":          func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
		"v1 ConfigMap":                                    func() any { return &corev1.ConfigMap{} },
		"rbac.authorization.k8s.io/v1 ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
	}
	var kinds []string
	var d *appsv1.Deployment
	for _, doc := range docs {
		obj, key, err := decodeDoc(doc, known)
		if err != nil {
			t.Fatalf("%s renders a resource that %v", cmd, err)
		}
		kinds = append(kinds, key)
		if dep, ok := obj.(*appsv1.Deployment); ok {
			d = dep
		}
	}
	slices.Sort(kinds)
	want := slices.Sorted(func(yield func(string) bool) {
		for k := range known {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(kinds, want) {
		t.Fatalf("%s renders %v; want one each of %v (and no example client)", cmd, kinds, want)
	}

	base := a.base.deployment.Spec.Template.Spec
	spec := d.Spec.Template.Spec
	bc := base.Containers[0]
	if len(spec.Containers) != 1 || spec.Containers[0].Name != bc.Name {
		t.Fatalf("rendered Deployment: %d containers; want the base's one, %q", len(spec.Containers), bc.Name)
	}
	c := spec.Containers[0]
	automount := base.AutomountServiceAccountToken
	if p := a.patch.Spec.Template.Spec.AutomountServiceAccountToken; p != nil {
		automount = p
	}
	if !reflect.DeepEqual(c.Env, a.patchContainer().Env) {
		t.Errorf("rendered Deployment: env is %v; want the patch's %v", c.Env, a.patchContainer().Env)
	}
	if !reflect.DeepEqual(c.VolumeMounts, a.patchContainer().VolumeMounts) || !reflect.DeepEqual(spec.Volumes, a.patch.Spec.Template.Spec.Volumes) {
		t.Errorf("rendered Deployment: volumes or mounts differ from the patch's")
	}
	for what, same := range map[string]bool{
		"args":                         reflect.DeepEqual(c.Args, bc.Args),
		"ports":                        reflect.DeepEqual(c.Ports, bc.Ports),
		"probes":                       reflect.DeepEqual([]any{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe}, []any{bc.StartupProbe, bc.ReadinessProbe, bc.LivenessProbe}),
		"securityContext":              reflect.DeepEqual(c.SecurityContext, bc.SecurityContext) && reflect.DeepEqual(spec.SecurityContext, base.SecurityContext),
		"automountServiceAccountToken": reflect.DeepEqual(spec.AutomountServiceAccountToken, automount),
	} {
		if !same {
			t.Errorf("rendered Deployment: %s differ from the base's; the component should add to the Deployment, not change it", what)
		}
	}
}
