"""Writers every layer's emitter shares (HCL, fast YAML, the Terraform block), and compile: the IR ->
every layer's files, written into one folder."""
