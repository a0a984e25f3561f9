package p
import future.keywords.in
q[x] { x := input.xs[_] }
r = y { y := object.get(input, ["a", "b"], null) }
n { not q[1] }
