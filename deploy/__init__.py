"""Running genlab for a class larger than one server: several Streamlit replicas behind HAProxy
(:mod:`deploy.haproxy_config` writes its configuration, :mod:`deploy.serve_class` runs it all on
one machine: ``make serve-class REPLICAS=N``)."""
