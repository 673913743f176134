from tangible_demo.cli import main

raise SystemExit(main())
