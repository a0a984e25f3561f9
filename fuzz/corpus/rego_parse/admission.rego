package arca.admission

default allow := false

allow if {
	input.image.registry in data.registries
	count(deny) == 0
}

deny contains msg if {
	some c in input.containers
	c.privileged
	msg := sprintf("container %s is privileged", [c.name])
}
