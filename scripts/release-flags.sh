# The release build's flags, one place for every script that builds one (sourced by
# scripts/build-release, which scripts/run and scripts/smoke-release call, and by bench/run.sh
# for the SwiftNIO floor).
#
# --static-swift-stdlib: the Swift runtime linked into the binary, one file to install, and
#   retain, release and the runtime's thread-local state reached without the PLT.
# -Xswiftc -enforce-exclusivity=unchecked: no run-time exclusivity checks in any module,
#   SwiftNIO's included (a thread-local access set updated on each access to a class's
#   stored property; about a tenth of the instructions of a proxied request, most of them
#   in NIO's channel code). They catch a programming error, two overlapping accesses, which
#   the input does not decide; debug builds keep them, so every test run does.
#
# SwiftPM rebuilds every module when a build's flags change: build release only with these.
RELEASE_FLAGS=(-c release --static-swift-stdlib -Xswiftc -enforce-exclusivity=unchecked)
