from edgehdc.cli import main

raise SystemExit(main())
