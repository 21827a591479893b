package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const (
	// manifestDir is the kustomization, relative to this package.
	manifestDir = "kubernetes"

	// imageScript builds the container image. Its default reference is the
	// line image=${IMAGE:-REFERENCE}; defaultImage is that reference, used
	// when the script is not in this tree.
	imageScript  = "../../scripts/image.sh"
	defaultImage = "localhost/greeter-server:dev"

	// cliSource defines greeter-server's flags; every flag in the
	// Deployment's args must be one of them.
	cliSource = "../internal/cli/cli.go"

	// imageListenPort is the port of GREETER_SERVER_ADDR=:50051, which the
	// image sets (greeter-server/Containerfile); the Deployment may override
	// it with --addr or its own GREETER_SERVER_ADDR.
	imageListenPort = 50051

	// trim:http begin
	// imageHTTPListenPort is the port of GREETER_SERVER_HTTP_ADDR=:8080,
	// the image's HTTP listener; the Deployment may override it with
	// --http-addr or its own GREETER_SERVER_HTTP_ADDR, and an empty value
	// turns the listener off.
	imageHTTPListenPort = 8080
	// trim:http end

	// minEndpointPropagation is the shortest preStop sleep accepted: the
	// time for a deleted pod's EndpointSlice change to reach kube-proxy and
	// gateways, and for CoreDNS's 5 s answers naming the pod to expire,
	// while the pod still serves.
	minEndpointPropagation = 5 * time.Second

	// exitMargin is what terminationGracePeriodSeconds must leave after the
	// preStop sleep and --shutdown-timeout: time to cut the calls still
	// open, close connections and exit before SIGKILL.
	exitMargin = 5 * time.Second

	// imageUser is the image's numeric user and group.
	imageUser = 65532
)

// kustomization holds the fields of kustomization.yaml this directory uses.
// It is decoded strictly too, so a misspelt key such as `resource:` fails;
// a field added to kustomization.yaml on purpose must be added here.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
		IncludeTemplates bool              `json:"includeTemplates"`
	} `json:"labels"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
		Digest  string `json:"digest"`
	} `json:"images"`
}

// manifests are the decoded resources, each with the file it came from.
type manifests struct {
	deployment    *appsv1.Deployment
	service       *corev1.Service
	pdb           *policyv1.PodDisruptionBudget
	hpa           *autoscalingv2.HorizontalPodAutoscaler
	file          map[any]string // resource -> file name, for messages
	kustomization kustomization
}

// decodeStrict decodes YAML the way the API server does with
// fieldValidation=Strict: duplicate keys, unknown fields and fields whose
// case differs from the API's (encoding/json would accept `Replicas`) are
// errors.
func decodeStrict(data []byte, into any) error {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	strictErrs, err := json.UnmarshalStrict(js, into)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// documents splits a YAML file into its non-empty documents.
func documents(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		// A document of only comments and blank lines is nothing.
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, err
		}
		if s := strings.TrimSpace(string(js)); s != "null" && s != "" {
			docs = append(docs, doc)
		}
	}
}

// newObject returns the Go type of an apiVersion and kind this directory
// may contain.
func newObject(tm metav1.TypeMeta) (any, bool) {
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	}
	return nil, false
}

// load reads kustomization.yaml and every resource it lists, strictly, and
// fails the test unless there is exactly one Deployment, Service,
// PodDisruptionBudget and HorizontalPodAutoscaler.
func load(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{file: map[any]string{}}
	data, err := os.ReadFile(filepath.Join(manifestDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeStrict(data, &m.kustomization); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if m.kustomization.APIVersion != "kustomize.config.k8s.io/v1beta1" || m.kustomization.Kind != "Kustomization" {
		t.Fatalf("kustomization.yaml: apiVersion %q, kind %q; want kustomize.config.k8s.io/v1beta1, Kustomization",
			m.kustomization.APIVersion, m.kustomization.Kind)
	}
	for _, name := range m.kustomization.Resources {
		data, err := os.ReadFile(filepath.Join(manifestDir, name))
		if err != nil {
			t.Fatalf("kustomization.yaml lists %s: %v", name, err)
		}
		docs, err := documents(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(docs) != 1 {
			t.Fatalf("%s holds %d resources; keep one resource per file", name, len(docs))
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(docs[0], &tm); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		obj, ok := newObject(tm)
		if !ok {
			t.Fatalf("%s: apiVersion %q kind %q is not one this test knows; add it to newObject and check it",
				name, tm.APIVersion, tm.Kind)
		}
		if err := decodeStrict(docs[0], obj); err != nil {
			t.Fatalf("%s is not a valid %s %s: %v", name, tm.APIVersion, tm.Kind, err)
		}
		var dup bool
		switch o := obj.(type) {
		case *appsv1.Deployment:
			dup, m.deployment = m.deployment != nil, o
		case *corev1.Service:
			dup, m.service = m.service != nil, o
		case *policyv1.PodDisruptionBudget:
			dup, m.pdb = m.pdb != nil, o
		case *autoscalingv2.HorizontalPodAutoscaler:
			dup, m.hpa = m.hpa != nil, o
		}
		if dup {
			t.Fatalf("%s: a second %s; this test checks exactly one of each kind", name, tm.Kind)
		}
		m.file[obj] = name
	}
	for kind, missing := range map[string]bool{
		"Deployment":              m.deployment == nil,
		"Service":                 m.service == nil,
		"PodDisruptionBudget":     m.pdb == nil,
		"HorizontalPodAutoscaler": m.hpa == nil,
	} {
		if missing {
			t.Fatalf("kustomization.yaml lists no %s", kind)
		}
	}
	if n := len(m.deployment.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("%s: %d containers; this test expects greeter-server alone", m.file[m.deployment], n)
	}
	return m
}

func (m *manifests) container() *corev1.Container {
	return &m.deployment.Spec.Template.Spec.Containers[0]
}

// containerPort resolves a port given by name or number to the container's
// port, or returns nil.
func (m *manifests) containerPort(p intstr.IntOrString) *corev1.ContainerPort {
	for i, cp := range m.container().Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return &m.container().Ports[i]
		}
	}
	return nil
}

// listenPort returns the port the server's listener of flag (such as addr)
// listens on: the flag in the container's args, else its
// environment variable set in the container, else the image's port. off is
// true if the value is empty, which turns the listener off.
func (m *manifests) listenPort(t *testing.T, flag, envVar string, imagePort int32) (port int32, off bool) {
	t.Helper()
	c := m.container()
	addr, ok := flagValue(c.Args, flag)
	if !ok {
		for _, e := range c.Env {
			if e.Name == envVar {
				addr, ok = e.Value, true
			}
		}
	}
	if !ok {
		return imagePort, false
	}
	if addr == "" {
		return 0, true
	}
	_, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.ParseInt(p, 10, 32)
	if err != nil || err2 != nil {
		t.Fatalf("%s: --%s listen address %q has no port number", m.file[m.deployment], flag, addr)
	}
	return int32(n), false
}

// flagValue returns the value of --name in args (--name=value or
// --name value).
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

func TestKustomizationListsEveryFile(t *testing.T) {
	m := load(t)
	entries, err := os.ReadDir(manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range m.kustomization.Resources {
		if listed[r] {
			t.Errorf("kustomization.yaml lists %s twice", r)
		}
		listed[r] = true
	}
	var files []string
	for _, e := range entries {
		if e.Name() == "kustomization.yaml" {
			continue
		}
		// components/ holds kustomize Components that overlays add to
		// this base; auth_test.go checks them.
		if e.IsDir() && filepath.Join(manifestDir, e.Name()) == componentsDir {
			continue
		}
		files = append(files, e.Name())
		if !listed[e.Name()] {
			t.Errorf("%s/%s is not in kustomization.yaml's resources, so `kubectl apply -k` would skip it; list it or remove it",
				manifestDir, e.Name())
		}
	}
	for r := range listed {
		if !slices.Contains(files, r) {
			t.Errorf("kustomization.yaml lists %s, which is not a file in %s (resources from elsewhere belong in an overlay)", r, manifestDir)
		}
	}
}

func TestSelectorsMatchTheDeployment(t *testing.T) {
	m := load(t)
	d := m.deployment
	podLabels := labels.Set(d.Spec.Template.Labels)

	check := func(file, what string, sel *metav1.LabelSelector) {
		t.Helper()
		if sel == nil {
			t.Errorf("%s: %s is missing", file, what)
			return
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			t.Errorf("%s: %s: %v", file, what, err)
			return
		}
		if s.Empty() {
			t.Errorf("%s: %s is empty and would select every pod in the namespace", file, what)
			return
		}
		if !s.Matches(podLabels) {
			t.Errorf("%s: %s %q does not select the Deployment's pods (labels %v)", file, what, s, podLabels)
		}
	}
	check(m.file[d], "the Deployment's spec.selector", d.Spec.Selector)
	check(m.file[m.pdb], "the PodDisruptionBudget's spec.selector", m.pdb.Spec.Selector)
	for i, c := range d.Spec.Template.Spec.TopologySpreadConstraints {
		check(m.file[d], fmt.Sprintf("topologySpreadConstraints[%d].labelSelector", i), c.LabelSelector)
	}

	svc := m.service
	if len(svc.Spec.Selector) == 0 {
		t.Errorf("%s: the Service has no selector, so no endpoints", m.file[svc])
	} else if s := labels.SelectorFromSet(svc.Spec.Selector); !s.Matches(podLabels) {
		t.Errorf("%s: the Service's selector %q does not select the Deployment's pods (labels %v)", m.file[svc], s, podLabels)
	}

	ref := m.hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("%s: scaleTargetRef is %s %s %q; want apps/v1 Deployment %q", m.file[m.hpa], ref.APIVersion, ref.Kind, ref.Name, d.Name)
	}
}

func TestPortsAndProbes(t *testing.T) {
	m := load(t)
	c := m.container()
	file := m.file[m.deployment]

	names, numbers := map[string]bool{}, map[int32]bool{}
	for _, cp := range c.Ports {
		if names[cp.Name] {
			t.Errorf("%s: two container ports are named %s", file, cp.Name)
		}
		if numbers[cp.ContainerPort] {
			t.Errorf("%s: two container ports have the number %d", file, cp.ContainerPort)
		}
		names[cp.Name], numbers[cp.ContainerPort] = true, true
		if cp.Protocol != "" && cp.Protocol != corev1.ProtocolTCP { // "" is TCP, the default
			t.Errorf("%s: container port %s is %s; the server listens on TCP alone", file, cp.Name, cp.Protocol)
		}
	}

	// The ports the server listens on: each listener's flag, else its
	// variable set here, else the image's.
	listen, off := m.listenPort(t, "addr", "GREETER_SERVER_ADDR", imageListenPort)
	if off {
		t.Fatalf("%s: an empty --addr or GREETER_SERVER_ADDR; the server refuses to start without its gRPC listener", file)
	}
	grpcPort := m.containerPort(intstr.FromString("grpc"))
	if grpcPort == nil {
		t.Fatalf("%s: the container has no port named grpc", file)
	}
	if grpcPort.ContainerPort != listen {
		t.Errorf("%s: port grpc is %d, but the server's gRPC listener is on %d", file, grpcPort.ContainerPort, listen)
	}
	// trim:http begin
	httpListen, httpOff := m.listenPort(t, "http-addr", "GREETER_SERVER_HTTP_ADDR", imageHTTPListenPort)
	if httpOff {
		t.Fatalf("%s: the HTTP listener is turned off (an empty --http-addr or GREETER_SERVER_HTTP_ADDR), but the container and the Service have an http port", file)
	}
	httpPort := m.containerPort(intstr.FromString("http"))
	if httpPort == nil {
		t.Fatalf("%s: the container has no port named http", file)
	}
	if httpPort.ContainerPort != httpListen {
		t.Errorf("%s: port http is %d, but the server's HTTP listener is on %d", file, httpPort.ContainerPort, httpListen)
	}
	// trim:http end

	if addr, ok := flagValue(c.Args, "metrics-addr"); ok {
		_, port, _ := net.SplitHostPort(addr)
		mp := m.containerPort(intstr.FromString("metrics"))
		if mp == nil || strconv.Itoa(int(mp.ContainerPort)) != port {
			t.Errorf("%s: --metrics-addr=%s, but no container port named metrics has port %s", file, addr, port)
		}
	}

	healthServices := []string{
		"", "greeter.v1.GreeterService",
		"helloworld.Greeter", // trim:helloworld
	}
	for name, p := range map[string]*corev1.Probe{
		"startupProbe":   c.StartupProbe,
		"readinessProbe": c.ReadinessProbe,
		"livenessProbe":  c.LivenessProbe,
	} {
		switch {
		case p == nil:
			t.Errorf("%s: %s is missing", file, name)
		case p.GRPC == nil:
			t.Errorf("%s: %s is not a grpc probe; the server's health is grpc.health.v1 on the gRPC port", file, name)
		case p.GRPC.Port != grpcPort.ContainerPort:
			t.Errorf("%s: %s checks port %d, not the grpc port %d", file, name, p.GRPC.Port, grpcPort.ContainerPort)
		case p.GRPC.Service != nil && !slices.Contains(healthServices, *p.GRPC.Service):
			t.Errorf("%s: %s asks for health of %q; the server reports only %q", file, name, *p.GRPC.Service, healthServices)
		}
	}

	svc := m.service
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("%s: clusterIP is %q; want None (headless), so DNS returns every pod for client-side balancing", m.file[svc], svc.Spec.ClusterIP)
	}
	// The Service's ports, in this order: each targets the container port
	// of its name, by name, with the same number (a headless Service
	// translates no ports: clients dial the pods on the number they were
	// given), and says what it speaks.
	want := []struct {
		name        string
		container   *corev1.ContainerPort
		appProtocol string
		why         string
	}{
		{"grpc", grpcPort, "kubernetes.io/h2c", "HTTP/2 over cleartext, which plaintext gRPC is"},
		{"http", httpPort, "http", "HTTP/1.1, which every proxy speaks to a backend and which carries Connect, gRPC-Web and the page"}, // trim:http
	}
	if len(svc.Spec.Ports) != len(want) {
		t.Fatalf("%s: %d ports; want %d, one for each listener", m.file[svc], len(svc.Spec.Ports), len(want))
	}
	for i, w := range want {
		sp := svc.Spec.Ports[i]
		if sp.Name != w.name {
			t.Errorf("%s: port %d is named %q; want %s", m.file[svc], i, sp.Name, w.name)
			continue
		}
		if sp.TargetPort != intstr.FromString(w.name) {
			t.Errorf("%s: port %s has targetPort %s; want the container port's name, %s, so a renumbered container port cannot leave it behind unnoticed", m.file[svc], w.name, sp.TargetPort.String(), w.name)
		}
		if cp := m.containerPort(sp.TargetPort); cp == nil || cp.ContainerPort != w.container.ContainerPort {
			t.Errorf("%s: port %s's targetPort %s is not the container's %s port %d", m.file[svc], w.name, sp.TargetPort.String(), w.name, w.container.ContainerPort)
		}
		if sp.Port != w.container.ContainerPort {
			t.Errorf("%s: port %s is %d, but the container's is %d; a headless Service translates no ports, so clients dialing %d would miss the server", m.file[svc], w.name, sp.Port, w.container.ContainerPort, sp.Port)
		}
		if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP { // "" is TCP, the default
			t.Errorf("%s: port %s is %s; want TCP", m.file[svc], w.name, sp.Protocol)
		}
		if sp.AppProtocol == nil || *sp.AppProtocol != w.appProtocol {
			t.Errorf("%s: port %s's appProtocol is not %s (%s)", m.file[svc], w.name, w.appProtocol, w.why)
		}
	}
}

// TestFlagsExist checks every flag in the Deployment's args against
// greeter-server's flag definitions: a misspelt flag would only show as a
// crash-looping pod.
func TestFlagsExist(t *testing.T) {
	m := load(t)
	src, err := os.ReadFile(cliSource)
	if err != nil {
		t.Skipf("cannot read greeter-server's flags: %v", err)
	}
	defined := map[string]bool{}
	for _, match := range regexp.MustCompile(`f\.\w+Var\(&[^,]+, "([a-z0-9-]+)"`).FindAllSubmatch(src, -1) {
		defined[string(match[1])] = true
	}
	if len(defined) == 0 {
		t.Fatalf("found no flag definitions in %s; update this test's pattern", cliSource)
	}
	for _, a := range m.container().Args {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !defined[name] {
			t.Errorf("%s: greeter-server has no flag --%s (%s defines %v)", m.file[m.deployment], name, cliSource, sortedKeys(defined))
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestGracePeriodCoversShutdown checks the arithmetic in deployment.yaml:
// the kubelet's countdown to SIGKILL starts before the preStop sleep, so it
// must cover the sleep, the server's drain and a margin to exit.
func TestGracePeriodCoversShutdown(t *testing.T) {
	m := load(t)
	file := m.file[m.deployment]
	spec := m.deployment.Spec.Template.Spec
	c := m.container()

	v, ok := flagValue(c.Args, "shutdown-timeout")
	if !ok {
		t.Fatalf("%s: set --shutdown-timeout in the container's args; terminationGracePeriodSeconds is computed from it", file)
	}
	shutdown, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: --shutdown-timeout=%s: %v", file, v, err)
	}
	if v, ok := flagValue(c.Args, "stream-grace"); ok {
		if grace, err := time.ParseDuration(v); err != nil || grace > shutdown {
			t.Errorf("%s: --stream-grace=%s must be a duration no longer than --shutdown-timeout=%s", file, v, shutdown)
		}
	}

	var sleep time.Duration
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Errorf("%s: no preStop sleep; the pod would stop listening before endpoint updates reach kube-proxy, DNS and gateways", file)
	} else {
		sleep = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
		if sleep < minEndpointPropagation {
			t.Errorf("%s: preStop sleep is %v; want at least %v for endpoint updates to propagate", file, sleep, minEndpointPropagation)
		}
	}

	if spec.TerminationGracePeriodSeconds == nil {
		t.Fatalf("%s: terminationGracePeriodSeconds is not set; write it out with its arithmetic", file)
	}
	got := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	if want := sleep + shutdown + exitMargin; got < want {
		t.Errorf("%s: terminationGracePeriodSeconds is %v; want at least %v = preStop sleep %v + --shutdown-timeout %v + exit margin %v, or the kubelet kills calls still draining",
			file, got, want, sleep, shutdown, exitMargin)
	}
}

// TestImageIsWhatTheScriptBuilds checks the Deployment's image against
// scripts/image.sh's default reference.
func TestImageIsWhatTheScriptBuilds(t *testing.T) {
	m := load(t)
	want := defaultImage
	script, err := os.ReadFile(imageScript)
	switch {
	case errors.Is(err, os.ErrNotExist):
		t.Logf("%s does not exist; expecting its default image %s", imageScript, defaultImage)
	case err != nil:
		t.Fatal(err)
	default:
		match := regexp.MustCompile(`(?m)^\s*image=\$\{IMAGE:-([^}]+)\}\s*$`).FindSubmatch(script)
		if match == nil {
			t.Fatalf("%s has no line image=${IMAGE:-REFERENCE}; update this test to find its default image", imageScript)
		}
		want = string(match[1])
	}
	c := m.container()
	if c.Image != want {
		t.Errorf("%s: image is %q; want %q, what %s builds (override it with kustomize images:, not here)",
			m.file[m.deployment], c.Image, want, imageScript)
	}
	if c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("%s: imagePullPolicy is %q; want IfNotPresent, so an image loaded into kind or minikube is used", m.file[m.deployment], c.ImagePullPolicy)
	}
}

func TestSecurityContext(t *testing.T) {
	m := load(t)
	file := m.file[m.deployment]
	spec := m.deployment.Spec.Template.Spec
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken must be false; the server never calls the Kubernetes API", file)
	}
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	sc := m.container().SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	// What the container runs with: its own setting, else the pod's.
	runAsNonRoot := cmpOr(sc.RunAsNonRoot, pod.RunAsNonRoot)
	runAsUser := cmpOr(sc.RunAsUser, pod.RunAsUser)
	runAsGroup := cmpOr(sc.RunAsGroup, pod.RunAsGroup)
	seccomp := cmpOr(sc.SeccompProfile, pod.SeccompProfile)

	if runAsNonRoot == nil || !*runAsNonRoot {
		t.Errorf("%s: runAsNonRoot must be true", file)
	}
	if runAsUser == nil || *runAsUser != imageUser {
		t.Errorf("%s: runAsUser must be %d, the image's user", file, imageUser)
	}
	if runAsGroup == nil || *runAsGroup != imageUser {
		t.Errorf("%s: runAsGroup must be %d, the image's group", file, imageUser)
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccompProfile must be RuntimeDefault", file)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem must be true", file)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation must be false", file)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("%s: the container must not be privileged", file)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		t.Errorf("%s: capabilities must drop ALL and add none", file)
	}
}

// cmpOr returns the first non-nil pointer, like cmp.Or for pointers.
func cmpOr[T any](ptrs ...*T) *T {
	for _, p := range ptrs {
		if p != nil {
			return p
		}
	}
	return nil
}

func TestReplicasRolloutAndScaling(t *testing.T) {
	m := load(t)
	d := m.deployment
	file := m.file[d]
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("%s: replicas must be at least 2, so one pod can stop while another serves", file)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil || ru.MaxUnavailable == nil {
		t.Errorf("%s: want a RollingUpdate strategy with maxUnavailable 0", file)
	} else if mu := ru.MaxUnavailable; (mu.Type != intstr.Int || mu.IntVal != 0) && mu.StrVal != "0%" {
		t.Errorf("%s: maxUnavailable is %s; want 0, so a rollout never serves with fewer pods", file, mu.String())
	}

	h := m.hpa
	minReplicas := int32(1)
	if h.Spec.MinReplicas != nil {
		minReplicas = *h.Spec.MinReplicas
	}
	if minReplicas < 2 {
		t.Errorf("%s: minReplicas is %d; want at least 2", m.file[h], minReplicas)
	}
	if d.Spec.Replicas != nil && minReplicas != *d.Spec.Replicas {
		t.Errorf("%s: minReplicas %d differs from the Deployment's replicas %d; applying the Deployment would move the fleet past the autoscaler's floor",
			m.file[h], minReplicas, *d.Spec.Replicas)
	}
	if h.Spec.MaxReplicas < minReplicas {
		t.Errorf("%s: maxReplicas %d is below minReplicas %d", m.file[h], h.Spec.MaxReplicas, minReplicas)
	}
	pdb := m.pdb
	if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
		t.Errorf("%s: set maxUnavailable or minAvailable", m.file[pdb])
	}
	if mu := pdb.Spec.MaxUnavailable; mu != nil && mu.Type == intstr.Int && mu.IntVal >= minReplicas {
		t.Errorf("%s: maxUnavailable %d would let a drain evict every pod of a fleet of %d", m.file[pdb], mu.IntVal, minReplicas)
	}
}

func TestResources(t *testing.T) {
	m := load(t)
	file := m.file[m.deployment]
	r := m.container().Resources
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := r.Requests[name]
		lim, hasLim := r.Limits[name]
		if !hasReq {
			t.Errorf("%s: resources.requests.%s is not set (the scheduler and the HPA need it)", file, name)
		}
		if !hasLim {
			t.Errorf("%s: resources.limits.%s is not set", file, name)
		}
		if hasReq && hasLim && req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s exceeds its limit %s", file, name, req.String(), lim.String())
		}
	}
}
