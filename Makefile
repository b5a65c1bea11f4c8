# The two commands of the README. Both install what they need first (Debian packages), so that they work
# on a fresh Debian 12 machine that has only the .NET SDK.
CONFIGURATION ?= Release
STRATUS_URLS ?= http://127.0.0.1:8080
STRATUS_DATA ?= ./.stratus
# `make install` puts the program under $(PREFIX)/lib/stratus and the command `stratus` in $(PREFIX)/bin.
PREFIX ?= /usr/local

.PHONY: up install test chaos build image deps-up deps-test clean

up: deps-up build image
	@echo "Starting Stratus all-in-one on $(STRATUS_URLS) (data in $(STRATUS_DATA)); Ctrl+C stops it."
	./src/Stratus/bin/$(CONFIGURATION)/net10.0/stratus up --urls "$(STRATUS_URLS)" --data "$(STRATUS_DATA)"

# The built program is a folder (the stratus launcher and its libraries); the command on the PATH is a link to it.
install: build
	rm -rf "$(DESTDIR)$(PREFIX)/lib/stratus"
	mkdir -p "$(DESTDIR)$(PREFIX)/lib/stratus" "$(DESTDIR)$(PREFIX)/bin"
	cp -R ./src/Stratus/bin/$(CONFIGURATION)/net10.0/. "$(DESTDIR)$(PREFIX)/lib/stratus/"
	ln -sfn ../lib/stratus/stratus "$(DESTDIR)$(PREFIX)/bin/stratus"
	@echo "Installed $(DESTDIR)$(PREFIX)/bin/stratus; run 'stratus --help'."

test: deps-test
	./scripts/test.sh $(CONFIGURATION)

# The fault-injection harness's full run (root: it makes network namespaces). Figures: artifacts/chaos/resilience-full.md.
chaos: deps-test build
	dotnet build tests/Stratus.Resilience -c $(CONFIGURATION) -nologo -v quiet
	STRATUS_CHAOS_PROFILE=full dotnet test tests/Stratus.Resilience -c $(CONFIGURATION) --no-build -nologo \
	  --logger "console;verbosity=detailed"

build:
	dotnet build src/Stratus/Stratus.csproj -c $(CONFIGURATION) -nologo -v quiet

# The gallery image "Stratus Tiny Linux", built from Debian packages where the images service finds it.
image:
	./scripts/build-tiny-image.sh "$(STRATUS_DATA)/images/gallery/stratus-tiny-linux"

deps-up:
	./scripts/install-deps.sh up

deps-test:
	./scripts/install-deps.sh test

clean:
	dotnet clean Stratus.slnx -nologo -v quiet
