package t

a.b[x] := y if { some x, y in {"k": 1} }
f(x) := x + 1 if x > 0 else := 0
s := {v | v := [1, 2, 3][_]; v % 2 == 1}
t := $"n={count(s)}"
e if every v in s { v > 0 }
w := r if r := data.t.s with input as {}
