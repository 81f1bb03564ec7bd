# SPDX-License-Identifier: MIT
#
# tap-count.awk: count the results in one program's TAP/KTAP output.
#
#   awk -f tap-count.awk FILE
#
# Prints one "FAIL <what>" line per failed result and, last,
# "COUNT <passed> <failed>". Rules (Documentation/vm-runner.rst):
#   - "ok N name" passes; "not ok N name" fails (a TODO directive changes
#     nothing); any result with a SKIP directive fails (the VM always has the
#     devices a test could want).
#   - Nesting is by indentation (KTAP subtests, TAP 13 subtests): a block of
#     deeper-indented lines with its own plan is the subtests of the result
#     line that follows it. The leaf results are counted; a parent's own
#     result line is not counted again, except that a failing parent whose
#     subtests all passed adds one failure.
#   - A plan "1..N" with fewer results than N (crash, timeout) counts the
#     missing ones as failed; "1..0" (everything skipped) counts one failure.
#   - "# ..." lines are diagnostics ("# Totals: ..." included) and are ignored,
#     as is anything that is not TAP (program chatter, "Segmentation fault").

# fail(what[, n]): record n (default 1) failed results.
function fail(what, n) {
	print "FAIL " what
	nfail += (n == "" ? 1 : n)
}

# close_below(i): finish every open block indented deeper than i, deepest
# first; count their missing results. Sets closed_fail/closed_res to the
# number/failures/results of those that are subtests (have a plan), for a
# parent result line at i.
function close_below(i,    j, k, deepest, missing) {
	closed_sub = 0
	closed_fail = 0
	closed_res = 0
	for (;;) {
		deepest = -1
		for (k in open)
			if (k + 0 > i && k + 0 > deepest)
				deepest = k + 0
		if (deepest < 0)
			break
		j = deepest
		if (j in plan && plan[j] > cnt[j]) {
			missing = plan[j] - cnt[j]
			fail(missing " of " plan[j] " results missing" \
			     (j > 0 ? " in a subtest" : "") " (crash or timeout?)", missing)
			bfail[j] += missing
		}
		# Only a block with its own plan is a subtest; stray indented
		# results stay plain results of their own.
		if (j in plan) {
			closed_sub++
			closed_fail += bfail[j]
			closed_res += bres[j]
		}
		delete open[j]; delete plan[j]; delete cnt[j]
		delete bfail[j]; delete bres[j]
	}
}

# directive(s): the text after the first " # " of a result line, upper-cased.
function directive(s,    p) {
	p = index(s, " # ")
	if (p == 0)
		p = index(s, "\t# ")
	return p ? toupper(substr(s, p + 3)) : ""
}

BEGIN { npass = 0; nfail = 0 }

{
	sub(/\r$/, "")
	match($0, /^[ \t]*/)
	ind = RLENGTH
	s = substr($0, ind + 1)
}

s == "" || s ~ /^#/ || s ~ /^K?TAP version/ { next }

s ~ /^Bail out!/ {
	fail("bail out: " s)
	next
}

s ~ /^1\.\.[0-9]+/ {
	close_below(ind)
	n = s
	sub(/^1\.\./, "", n)
	n = n + 0
	if (ind in plan) {
		# A second plan at this level: a new block begins.
		close_below(ind - 1)
	}
	open[ind] = 1
	plan[ind] = n
	if (!(ind in cnt))
		cnt[ind] = 0
	if (n == 0) {
		fail("no tests run: " s)
		bfail[ind]++
	}
	next
}

s ~ /^(not )?ok([ \t]|$)/ {
	notok = (s ~ /^not /)
	d = directive(s)
	skip = (d ~ /^SKIP/)
	name = s
	sub(/^(not )?ok[ \t]*/, "", name)
	close_below(ind)
	open[ind] = 1
	cnt[ind]++
	if (closed_sub > 0) {
		# A parent summarising the block just closed.
		bres[ind] += closed_res
		bfail[ind] += closed_fail
		if (notok && closed_fail == 0) {
			fail("not ok " name " (its subtests passed)")
			bfail[ind]++
		}
		next
	}
	bres[ind]++
	if (skip) {
		fail("skipped " name)
		bfail[ind]++
	} else if (notok) {
		fail("not ok " name)
		bfail[ind]++
	} else {
		npass++
	}
	next
}

END {
	close_below(-1)
	if (npass == 0 && nfail == 0)
		fail("no TAP results")
	print "COUNT " npass " " nfail
}
