#!/usr/bin/env bash
# Makes the Kubernetes binaries the tests need available, idempotently: etcd, kube-apiserver,
# kube-controller-manager and kubectl. Found like test/env/kube.ts finds them (controller-runtime envtest's
# variables): TEST_ASSET_ETCD, TEST_ASSET_KUBE_APISERVER, TEST_ASSET_KUBE_CONTROLLER_MANAGER, TEST_ASSET_KUBECTL,
# then the KUBEBUILDER_ASSETS directory (kubectl also on PATH). When any of the first three is missing,
# scripts/build-control-plane.sh builds v1.37.2 from the Go module proxy into $CACHE/bin/k8s-v1.37.2 (about
# 18-25 min cold on 2 cores, a relink of ~20 s warm; it builds only what is missing there, kubectl included,
# so the tests always have a kubectl that matches the server).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
source "$here/lib.sh"

K8S_VERSION=v1.37.2
BIN=$CACHE/bin/k8s-$K8S_VERSION

# Prints where a binary comes from outside the project cache, or nothing.
external() { # name env-var
  local name=$1 var=$2
  if [[ -n ${!var:-} ]]; then
    [[ -x ${!var} ]] || { echo "$var=${!var} is not an executable file" >&2; exit 1; }
    echo "${!var}"; return
  fi
  if [[ -n ${KUBEBUILDER_ASSETS:-} && -x $KUBEBUILDER_ASSETS/$name ]]; then echo "$KUBEBUILDER_ASSETS/$name"; fi
}

step "Kubernetes control plane $K8S_VERSION (etcd, kube-apiserver, kube-controller-manager, kubectl)"
etcd=$(external etcd TEST_ASSET_ETCD)
apiserver=$(external kube-apiserver TEST_ASSET_KUBE_APISERVER)
kcm=$(external kube-controller-manager TEST_ASSET_KUBE_CONTROLLER_MANAGER)
kubectl=$(external kubectl TEST_ASSET_KUBECTL)

if [[ -n $etcd && -n $apiserver && -n $kcm ]]; then
  note "using binaries from the envtest variables:"
  note "  etcd $etcd"
  note "  kube-apiserver $apiserver"
  note "  kube-controller-manager $kcm"
  if [[ -z $kubectl && -x $BIN/kubectl ]]; then kubectl=$BIN/kubectl; fi
  if [[ -z $kubectl ]]; then kubectl=$(command -v kubectl || true); fi
  if [[ -z $kubectl ]]; then
    note "no kubectl in TEST_ASSET_KUBECTL, KUBEBUILDER_ASSETS or PATH: building the control plane to get one"
    bash "$here/build-control-plane.sh" "$BIN"
    kubectl=$BIN/kubectl
  fi
else
  if [[ -n $etcd || -n $apiserver || -n $kcm ]]; then
    note "envtest variables name only some of etcd, kube-apiserver, kube-controller-manager: building the rest"
  fi
  command -v go >/dev/null || { echo "Go >= 1.26 is needed to build Kubernetes $K8S_VERSION; 'go' is not on PATH" >&2; exit 1; }
  go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  if [[ -z $go_minor || $go_minor -lt 26 ]]; then
    echo "Go >= 1.26 is needed to build Kubernetes $K8S_VERSION; found $(go env GOVERSION)" >&2; exit 1
  fi
  bash "$here/build-control-plane.sh" "$BIN"
  [[ -n $kubectl ]] || kubectl=$BIN/kubectl
fi
note "kubectl: $kubectl ($("$kubectl" version --client 2>/dev/null | head -n1))"
