# A container-admission policy of the kind arca evaluates before a launch:
# registry allow-list, required signers, host-state checks, runtime options.
package arca.admission

import rego.v1

default allow := false

allow if {
	count(deny) == 0
	image_trusted
	host_ok
}

# ---------------------------------------------------------------- image

image_ref := input.image.ref

registry := split(image_ref, "/")[0]

repository := trim_prefix(image_ref, concat("", [registry, "/"]))

image_trusted if {
	registry_allowed
	signed_by_required
	not digest_blocked
}

registry_allowed if data.registries[registry].allowed

registry_tier := data.registries[registry].tier

digest_blocked if input.image.digest in data.blocked_digests

signer_fingerprints contains s.fingerprint if {
	some s in input.signatures
	s.verified
}

required_signers := object.get(data.registries, [registry, "signers"], [])

signed_by_required if {
	count(required_signers) == 0
}

signed_by_required if {
	some fp in required_signers
	fp in signer_fingerprints
}

signature_count := count(signer_fingerprints)

# ---------------------------------------------------------------- host

host_ok if {
	input.host.secure_boot
	pcrs_match
	not host_revoked
	attestation_fresh
}

pcrs_match if {
	every idx, want in data.reference.pcrs {
		input.host.pcrs[idx] == want
	}
}

host_revoked if input.host.id in data.revoked_hosts

attestation_age := input.request.time - input.host.attested_at

attestation_fresh if attestation_age < data.limits.max_attestation_age

# ---------------------------------------------------------------- runtime

privileged if input.runtime.privileged

added_caps := {c | some c in input.runtime.cap_add}

dangerous_caps := {"SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "NET_ADMIN", "SYS_RAWIO"}

bad_caps := added_caps & dangerous_caps

writable_root if not input.runtime.read_only_root

host_mounts contains m.source if {
	some m in input.runtime.mounts
	startswith(m.source, "/")
	not m.source in data.allowed_host_paths
}

seccomp_unconfined if input.runtime.seccomp == "unconfined"

memory_bytes := units.parse_bytes(input.runtime.memory)

memory_too_large if memory_bytes > data.limits.max_memory

user_is_root if input.user.uid == 0

user_allowed if input.user.name in data.users

mode := object.get(input, "mode", "enforcing")

enforcing if mode in {"enforcing", "attested"}

# ---------------------------------------------------------------- deny

deny contains "registry not allowed" if not registry_allowed

deny contains "image digest is blocked" if digest_blocked

deny contains msg if {
	not signed_by_required
	msg := sprintf("image %s lacks a required signature", [image_ref])
}

deny contains "privileged containers are not allowed" if privileged

deny contains msg if {
	count(bad_caps) > 0
	msg := sprintf("capabilities not allowed: %v", [concat(", ", sort(bad_caps))])
}

deny contains "root filesystem must be read-only" if writable_root

deny contains msg if {
	some p in host_mounts
	msg := sprintf("host path %s may not be mounted", [p])
}

deny contains "seccomp must not be unconfined" if seccomp_unconfined

deny contains msg if {
	memory_too_large
	msg := sprintf("memory limit %d exceeds %d", [memory_bytes, data.limits.max_memory])
}

deny contains "root user is not allowed" if {
	user_is_root
	registry_tier != "system"
}

deny contains msg if {
	not user_allowed
	msg := sprintf("user %s is not allowed", [input.user.name])
}

deny contains "host attestation is stale" if {
	mode == "attested"
	not attestation_fresh
}

deny contains msg if {
	some k, v in input.image.labels
	some rule in data.label_rules
	k == rule.key
	not regex.match(rule.pattern, v)
	msg := sprintf("label %s=%s does not match %s", [k, v, rule.pattern])
}

# ---------------------------------------------------------------- decision

warnings contains "no signatures" if signature_count == 0

warnings contains "permissive mode" if mode == "permissive"

decision := {
	"allow": allow,
	"deny": deny,
	"warnings": warnings,
	"registry": registry,
	"repository": repository,
	"enforcing": enforcing,
}
