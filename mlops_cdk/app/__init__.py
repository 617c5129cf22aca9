"""The project's own app: composition only. One ``cdk.Stage`` per environment
(:mod:`.stage`) holding the Foundation (:mod:`.foundation`) and, per service, its registry
(:mod:`.registry`) and serving stack (:mod:`.service`); the deployment pipeline
(:mod:`.pipeline`); :mod:`.builder` builds the app with every compliance gate on. Stacks take the
validated configuration and hand each construct its typed props."""
