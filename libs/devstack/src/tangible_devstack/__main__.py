from tangible_devstack.cli import main

raise SystemExit(main())
