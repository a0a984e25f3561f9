#!/bin/sh
# Writes the benchmark's data document: 1,000 registries plus reference
# state, to stdout.
awk 'BEGIN {
	printf "{\"registries\":{"
	for (i = 0; i < 1000; i++) {
		if (i) printf ","
		printf "\"reg%d.example.com\":{\"allowed\":%s,\"tier\":\"%s\",\"signers\":[\"fp%04d\",\"fp%04d\"]}", i, (i % 7 ? "true" : "false"), (i % 10 ? "user" : "system"), i, i + 1
	}
	printf ",\"ghcr.io\":{\"allowed\":true,\"tier\":\"user\",\"signers\":[\"fp-release\"]}"
	printf "},\"blocked_digests\":["
	for (i = 0; i < 50; i++) { if (i) printf ","; printf "\"sha256:%064d\"", i }
	printf "],\"revoked_hosts\":[\"host-13\",\"host-99\"],"
	printf "\"reference\":{\"pcrs\":{\"0\":\"aa\",\"4\":\"bb\",\"7\":\"cc\"}},"
	printf "\"limits\":{\"max_attestation_age\":3600,\"max_memory\":8589934592},"
	printf "\"allowed_host_paths\":[\"/etc/resolv.conf\",\"/etc/hosts\"],"
	printf "\"users\":[\"alice\",\"bob\",\"ci\"],"
	printf "\"label_rules\":[{\"key\":\"team\",\"pattern\":\"^[a-z]+$\"},{\"key\":\"env\",\"pattern\":\"^(prod|dev)$\"}]}\n"
}'
