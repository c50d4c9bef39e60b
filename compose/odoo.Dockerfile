# Official Odoo 18 plus what the asterisk_plus module imports (manifest external_dependencies: redis,
# phonenumbers; the image already has python3-phonenumbers). Used by compose's `odoo` profile only.
FROM odoo:18
# The official image's user is named, not numbered: keep its own USER lines.
# hadolint ignore=DL3066
USER root
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-redis \
    && rm -rf /var/lib/apt/lists/*
# hadolint ignore=DL3066
USER odoo
