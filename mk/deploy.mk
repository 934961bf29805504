# The deployment (docker-compose.yml, deploy/) and its local stand-in: the
# cluster test runs every service as a local process behind nginx. nginx
# comes from Debian's package, unpacked into build/nginx (no root, no
# service started); its libraries are the machine's own.

NGINX_DIR := build/nginx
NGINX := $(NGINX_DIR)/usr/sbin/nginx

.PHONY: deploy-setup test-cluster test-failover

deploy-setup: $(NGINX)

$(NGINX):
	@command -v apt-get >/dev/null || { echo "nginx for the cluster test comes from Debian's package (apt-get)"; exit 1; }
	rm -rf $(NGINX_DIR).deb && mkdir -p $(NGINX_DIR).deb
	cd $(NGINX_DIR).deb && apt-get download nginx 2>/dev/null || { apt-get update -qq && apt-get download nginx; }
	dpkg -x $(NGINX_DIR).deb/nginx_*.deb $(NGINX_DIR)
	rm -rf $(NGINX_DIR).deb
	$(NGINX) -v
	touch $@

CLUSTER_PYTEST := $(HANDOFF_PY) -m pytest -q -s -p no:cacheprovider --import-mode=importlib --rootdir=. \
	  -o asyncio_mode=auto -o asyncio_default_fixture_loop_scope=module -o asyncio_default_test_loop_scope=module

# two replicas of every part on this machine's PostgreSQL, Redis and RabbitMQ,
# then one replica of each part killed mid-run (part of `make test`)
test-cluster: setup $(MODEL_STAMP) $(ENV_FILE)
	$(CLUSTER_PYTEST) tests/deploy

# the kill run alone, e.g. to repeat it: `make test-failover` (CLUSTER_KEEP_DATABASES=1
# keeps the run's databases for reading its trackers and tickets afterwards)
test-failover: setup $(MODEL_STAMP) $(ENV_FILE)
	$(CLUSTER_PYTEST) -k killed tests/deploy/test_cluster.py
