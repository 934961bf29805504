# The customer web chat page (handoff/webchat/) needs one library from npm,
# the socket.io client. Its exact version is pinned in package.json and
# package-lock.json (which carries no registry address); `npm ci` installs it
# into build/webchat/, never into the source tree, and only again when those
# files change. The handoff service serves it at /chat/vendor/socket.io.min.js.

WEBCHAT_SRC := handoff/webchat
WEBCHAT_BUILD := build/webchat
WEBCHAT_STAMP := $(WEBCHAT_BUILD)/.installed
NPM ?= npm
# where the customer's browser reaches Rasa (the page's socket.io connection)
export RASA_PUBLIC_URL ?= http://127.0.0.1:$(RASA_PORT)

.PHONY: webchat-setup

webchat-setup: $(WEBCHAT_STAMP)

$(WEBCHAT_STAMP): $(WEBCHAT_SRC)/package.json $(WEBCHAT_SRC)/package-lock.json $(WEBCHAT_SRC)/.npmrc
	@command -v $(NPM) >/dev/null || { echo "npm is needed for the web chat's socket.io client (apt-get install npm)"; exit 1; }
	mkdir -p $(WEBCHAT_BUILD)
	cp $(WEBCHAT_SRC)/package.json $(WEBCHAT_SRC)/package-lock.json $(WEBCHAT_SRC)/.npmrc $(WEBCHAT_BUILD)/
	cd $(WEBCHAT_BUILD) && $(NPM) ci --no-audit --no-fund --ignore-scripts
	test -f $(WEBCHAT_BUILD)/node_modules/socket.io-client/dist/socket.io.min.js
	touch $@

# the handoff service serves the page and its tests load it
test-handoff handoff-serve: webchat-setup
